"""The one failure path: every error class prints its envelope (JSON) or one line, and exits."""

from __future__ import annotations

import json

import pytest
import typer

from accunode_cli import console
from accunode_cli.errors import AccuNodeError, all_error_classes


@pytest.mark.parametrize("error_class", all_error_classes(), ids=lambda c: c.__name__)
def test_fail_prints_the_envelope_and_exits_with_the_code(
    error_class: type[AccuNodeError], capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON mode: {"error": {code, message, details}} on stdout; human mode: one stderr line."""
    error = error_class("something\nwent wrong", details={"field": "x"})
    for json_mode in (True, False):
        console.set_json_mode(json_mode, reset=True)
        with pytest.raises(typer.Exit) as exited:
            console.fail(error)
        assert exited.value.exit_code == error_class.exit_code
        out, err = capsys.readouterr()
        if json_mode:
            assert json.loads(out) == {
                "error": {
                    "code": error_class.code,
                    "message": "something\nwent wrong",
                    "details": {"field": "x"},
                }
            }
            assert err == ""
        else:
            assert out == ""
            assert err.strip() == "Error: something went wrong"
    console.set_json_mode(False, reset=True)


def test_unexpected_exception_is_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A bug surfaces as an internal error line, not a traceback."""

    @console.reports_errors
    def broken() -> None:
        raise RuntimeError("boom")

    console.set_json_mode(False, reset=True)
    with pytest.raises(typer.Exit) as exited:
        broken()
    assert exited.value.exit_code == 1
    assert "internal error: RuntimeError: boom" in capsys.readouterr().err
