"""Plain helper functions of the API tests: register and log in users, build request bodies."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

with warnings.catch_warnings():  # starlette asks for httpx2; httpx works the same here
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
TEST_SECRET = "t" * 48
API = "/api/v1"

__all__ = ["TestClient"]


def auth_headers(tokens: dict[str, Any], organization_id: str | None = None) -> dict[str, str]:
    """Return the headers of an authenticated request (in an organization when given)."""
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    if organization_id:
        headers["X-Organization-ID"] = organization_id
    return headers


def register(client: Any, email: str | None = None, **extra: Any) -> dict[str, Any]:
    """Register and log in a user; return its user, tokens, headers and personal organization."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": "Test User", **extra}
    created = client.post("/api/v1/auth/register", json=body)
    assert created.status_code == 201, created.text
    tokens = login(client, email)
    headers = auth_headers(tokens)
    organizations = client.get("/api/v1/users/organizations", headers=headers).json()
    return {
        "user": created.json(),
        "email": email,
        "tokens": tokens,
        "headers": headers,
        "org_id": organizations[0]["id"],
    }


def login(client: Any, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Log in and return the token pair."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def annual_body(**overrides: Any) -> dict[str, Any]:
    """A valid annual prediction request."""
    body: dict[str, Any] = {
        "company_symbol": "ACME",
        "company_name": "Acme Corp",
        "reporting_year": 2024,
        "long_term_debt_to_total_capital": 35.0,
        "total_debt_to_ebitda": 2.1,
        "net_income_margin": 8.5,
        "ebit_to_interest_expense": 9.2,
        "return_on_assets": 6.1,
    }
    body.update(overrides)
    return body


def quarterly_body(**overrides: Any) -> dict[str, Any]:
    """A valid quarterly prediction request."""
    body: dict[str, Any] = {
        "company_symbol": "ACME",
        "company_name": "Acme Corp",
        "reporting_year": 2024,
        "reporting_quarter": "Q2",
        "total_debt_to_ebitda": 2.4,
        "sga_margin": 18.0,
        "long_term_debt_to_total_capital": 38.0,
        "return_on_capital": 7.5,
    }
    body.update(overrides)
    return body
