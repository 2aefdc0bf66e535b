"""The `accunode` command: composes the command modules; nothing else lives here.

Every command module imports its heavy libraries inside its functions, so `accunode --help`
loads Typer and Rich only.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from accunode_cli import __version__, console
from accunode_cli.commands import (
    admin,
    api_key,
    bulk_score,
    company,
    db,
    drift,
    job,
    login,
    logout,
    model,
    org,
    predict,
    prediction,
    serve,
    stress,
    whoami,
    worker,
)
from accunode_cli.commands.options import JsonOption
from accunode_cli.commands.plain_help import PlainHelpGroup

__all__ = ["app"]


class AccuNodeApp(typer.Typer):
    """Typer root whose usage errors also honour --json (the error envelope on stdout)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = super().__call__(*args, **{**kwargs, "standalone_mode": False})
        except typer.Abort:
            console.stderr_console().print("Aborted.")
            sys.exit(130)
        except typer.TyperException as error:  # click's usage and parameter errors
            exit_code = int(getattr(error, "exit_code", 2))
            if "--json" in sys.argv[1:] and hasattr(error, "format_message"):
                from accunode_cli.errors import UsageError

                console.set_json_mode(True)
                try:
                    console.fail(UsageError(error.format_message()))
                except typer.Exit as done:
                    sys.exit(done.exit_code)
            getattr(error, "show", lambda: None)()
            sys.exit(exit_code)
        sys.exit(result if isinstance(result, int) else 0)


app = AccuNodeApp(
    name="accunode",
    cls=PlainHelpGroup,
    help="AccuNode: probability of default from financial ratios.\n\n"
    "Examples:\n\n"
    "  accunode predict annual --net-income-margin 8.5 --total-debt-to-ebitda 2.1 ...\n\n"
    "  accunode bulk-score companies.csv -o scored.csv\n\n"
    "Exit codes: 0 success, 1 failure at run time, 2 bad usage or unusable input, "
    "4 authentication needed (remote commands).",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    # token_normalize_func: `--kind Annual` and `accunode predict ANNUAL` work in any case
    context_settings={"help_option_names": ["-h", "--help"], "token_normalize_func": str.lower},
)


def _show_version(value: bool) -> None:
    if value:
        console.stdout_console().print(f"accunode {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    json_output: JsonOption = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """AccuNode: probability of default from financial ratios."""
    console.set_json_mode(json_output, reset=True)


app.add_typer(predict.app, name="predict")
app.command("bulk-score", epilog=bulk_score.EPILOG)(bulk_score.bulk_score)
app.command("serve", epilog=serve.EPILOG)(serve.serve)
app.command("worker", epilog=worker.EPILOG)(worker.worker)
app.add_typer(db.app, name="db")
app.add_typer(model.app, name="model")
app.add_typer(admin.app, name="admin")
app.command("login", epilog=login.EPILOG)(login.login)
app.command(
    "logout", epilog="Example:\n\n  accunode logout --api-url https://accunode.example.com"
)(logout.logout)
app.command("whoami", epilog="Example:\n\n  accunode whoami --json")(whoami.whoami)
app.add_typer(org.app, name="org")
app.add_typer(company.app, name="company")
app.add_typer(prediction.app, name="prediction")
app.add_typer(api_key.app, name="api-key")
app.add_typer(job.app, name="job")
app.command("drift", epilog=drift.EPILOG)(drift.drift)
app.command("stress", epilog=stress.EPILOG)(stress.stress)
