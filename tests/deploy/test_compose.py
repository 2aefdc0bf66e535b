"""compose.yaml: the services of the local stack, their health checks and their start order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text())
    found: dict[str, Any] = document["services"]
    return found


def _depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def test_the_stack_has_its_five_services(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker"}


def test_the_roles_run_the_accunode_image_with_their_command(services: dict[str, Any]) -> None:
    commands = {name: services[name]["command"] for name in ("migrate", "api", "worker")}
    assert commands == {
        "migrate": ["db", "upgrade"],
        "api": ["serve", "--host", "0.0.0.0", "--port", "8000"],
        "worker": ["worker"],
    }
    for name in commands:
        service = services[name]
        assert service["build"] == "." and service["image"] == "accunode:local"
        assert service["read_only"] is True and "/tmp" in service["tmpfs"]
        assert service["init"] is True
        env = service["environment"]
        assert env["ACCUNODE_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in env["ACCUNODE_DATABASE_URL"]
        assert env["ACCUNODE_REDIS_URL"] == "redis://redis:6379/0"
    assert "8000:8000" in services["api"]["ports"][0]


def test_long_running_services_have_health_checks(services: dict[str, Any]) -> None:
    for name in ("postgres", "redis", "api", "worker"):
        check = services[name]["healthcheck"]
        assert check["test"][0] == "CMD" and check["interval"] and check["retries"] >= 1
    assert "/api/v1/health" in " ".join(services["api"]["healthcheck"]["test"])
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert services["migrate"]["restart"] == "no"  # a one-off task


def test_dependencies_start_in_order(services: dict[str, Any]) -> None:
    assert _depends(services["postgres"]) == {} and _depends(services["redis"]) == {}
    assert _depends(services["migrate"]) == {"postgres": "service_healthy"}
    for name in ("api", "worker"):
        assert _depends(services[name]) == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "migrate": "service_completed_successfully",
        }


def test_the_order_has_no_cycle_and_ends_with_the_api(services: dict[str, Any]) -> None:
    order: list[str] = []
    remaining = dict(services)
    while remaining:
        ready = sorted(n for n, s in remaining.items() if set(_depends(s)) <= set(order))
        assert ready, f"a dependency cycle among {sorted(remaining)}"
        order.extend(ready)
        for name in ready:
            del remaining[name]
    assert order.index("migrate") > order.index("postgres")
    assert order.index("api") > order.index("migrate")
    assert order.index("worker") > order.index("migrate")
