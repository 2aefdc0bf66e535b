"""Auth: registration, login, token claims, rejection of bad tokens, rotation, logout, passwords."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid

import jwt
import pytest
from api_helpers import API, PASSWORD, TEST_SECRET, TestClient, auth_headers, login, register

from accunode_cli.config import Settings
from accunode_cli.logs import JsonFormatter
from accunode_cli.server import create_app
from accunode_cli.server.security import hash_password


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_register_creates_user_and_personal_org(client) -> None:
    account = register(client, email="Ann.Lee@Example.com")
    assert account["user"]["email"] == "Ann.Lee@example.com"  # as given (the domain normalised)
    assert "password" not in json.dumps(account["user"])
    orgs = client.get(f"{API}/users/organizations", headers=account["headers"]).json()
    assert [(o["personal"], o["role"]) for o in orgs] == [(True, "owner")]
    again = client.post(
        f"{API}/auth/register", json={"email": "ANN.LEE@example.COM", "password": PASSWORD}
    )  # the same answer as for a new email: registration does not reveal accounts
    assert again.status_code == 201 and again.json()["id"] != account["user"]["id"]


def test_register_refuses_a_role_field(client) -> None:
    for field, value in (("role", "owner"), ("is_superuser", True), ("organization_id", "x")):
        body = {"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD, field: value}
        response = client.post(f"{API}/auth/register", json=body)
        assert response.status_code == 422, field
        assert response.json()["error"]["details"]["fields"][0]["field"] == f"body.{field}"


def test_access_token_claims(client, settings: Settings) -> None:
    account = register(client)
    token = account["tokens"]["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(
        token, TEST_SECRET, algorithms=["HS256"], audience="accunode-api", issuer="accunode"
    )
    assert claims["sub"] == account["user"]["id"]
    assert claims["exp"] - claims["iat"] == 15 * 60 == account["tokens"]["expires_in"]
    assert len(claims["jti"]) >= 16
    assert account["tokens"]["refresh_token"] not in token


def test_login_failures_look_alike_and_are_throttled(make_settings) -> None:
    with TestClient(create_app(make_settings(login_attempts_per_15_minutes=3))) as client:
        account = register(client)
        wrong = client.post(f"{API}/auth/login", json={"email": account["email"], "password": "x"})
        unknown = client.post(
            f"{API}/auth/login", json={"email": "nobody@example.com", "password": "x"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()
        for _ in range(2):
            client.post(f"{API}/auth/login", json={"email": account["email"], "password": "x"})
        blocked = client.post(
            f"{API}/auth/login", json={"email": account["email"], "password": PASSWORD}
        )
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) > 0
        assert blocked.json()["error"]["code"] == "rate_limited"


def test_login_pays_for_one_bcrypt_check_for_unknown_and_known_email(
    make_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown email costs the same bcrypt check as a known one (no timing oracle).

    Counted, not timed: each login checks exactly one hash of the configured cost.
    """
    import bcrypt

    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        checked.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)
    with TestClient(create_app(make_settings(bcrypt_rounds=10))) as client:
        account = register(client)
        for email in (account["email"], f"{uuid.uuid4().hex}@example.com"):
            checked.clear()
            response = client.post(
                f"{API}/auth/login", json={"email": email, "password": "wrong-password"}
            )
            assert response.status_code == 401
            assert len(checked) == 1, email
            assert checked[0].startswith(b"$2b$10$")  # the configured cost, not a cheap hash


def test_oauth2_password_form_login(client) -> None:
    account = register(client)
    response = client.post(
        f"{API}/auth/token", data={"username": account["email"], "password": PASSWORD}
    )
    assert response.status_code == 200
    assert (
        client.get(f"{API}/users/profile", headers=auth_headers(response.json())).status_code == 200
    )


def _forge(claims: dict, *, secret: str = TEST_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


def test_bad_tokens_are_rejected(client) -> None:
    account = register(client)
    good = account["tokens"]["access_token"]
    claims = _claims(good)
    header, payload, signature = good.split(".")
    evil = dict(claims, sub=str(uuid.uuid4()))
    tampered_payload = base64.urlsafe_b64encode(json.dumps(evil).encode()).rstrip(b"=").decode()
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    now = int(time.time())
    bad = {
        "expired": _forge(dict(claims, iat=now - 3600, exp=now - 60)),
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "alg none": f"{none_header}.{payload}.",
        "other secret": _forge(claims, secret="s" * 48),
        "wrong audience": _forge(dict(claims, aud="someone-else")),
        "wrong issuer": _forge(dict(claims, iss="evil")),
        "no jti": _forge({k: v for k, v in claims.items() if k != "jti"}),
        "garbage": "not.a.token",
    }
    for name, token in bad.items():
        response = client.get(f"{API}/users/profile", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get(f"{API}/users/profile").status_code == 401
    assert client.get(f"{API}/users/profile", headers=account["headers"]).status_code == 200


def test_refresh_rotates_and_reuse_kills_the_session(client) -> None:
    account = register(client)
    first = account["tokens"]
    second = client.post(
        f"{API}/auth/refresh-token", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert client.get(f"{API}/users/profile", headers=auth_headers(pair)).status_code == 200
    reuse = client.post(f"{API}/auth/refresh-token", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    # The reuse ended the whole login session: the newest refresh and access tokens are dead.
    newest = client.post(f"{API}/auth/refresh-token", json={"refresh_token": pair["refresh_token"]})
    assert newest.status_code == 401
    assert client.get(f"{API}/users/profile", headers=auth_headers(pair)).status_code == 401
    other = login(client, account["email"])  # another session is unaffected
    assert client.get(f"{API}/users/profile", headers=auth_headers(other)).status_code == 200


def test_logout_revokes_access_and_refresh_tokens(client) -> None:
    account = register(client)
    tokens, headers = account["tokens"], account["headers"]
    body = {"refresh_token": tokens["refresh_token"]}
    assert client.post(f"{API}/auth/logout", json=body, headers=headers).status_code == 200
    assert client.get(f"{API}/users/profile", headers=headers).status_code == 401
    assert client.post(f"{API}/auth/refresh-token", json=body).status_code == 401


def test_change_password_ends_other_sessions(client) -> None:
    account = register(client)
    old = account["tokens"]
    body = {"current_password": PASSWORD, "new_password": "a much better password"}
    wrong = client.post(
        f"{API}/auth/change-password",
        json=dict(body, current_password="nope"),
        headers=account["headers"],
    )
    assert wrong.status_code == 401
    time.sleep(1.1)  # token times have one-second resolution
    changed = client.post(f"{API}/auth/change-password", json=body, headers=account["headers"])
    assert changed.status_code == 200
    assert (
        client.get(f"{API}/users/profile", headers=auth_headers(changed.json())).status_code == 200
    )
    assert client.get(f"{API}/users/profile", headers=account["headers"]).status_code == 401
    refresh = client.post(f"{API}/auth/refresh-token", json={"refresh_token": old["refresh_token"]})
    assert refresh.status_code == 401
    assert (
        client.post(
            f"{API}/auth/login", json={"email": account["email"], "password": PASSWORD}
        ).status_code
        == 401
    )
    login(client, account["email"], "a much better password")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():
    handler = _Capture()
    logger = logging.getLogger("accunode")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_verify_email_with_the_logged_token(client, log_lines) -> None:
    account = register(client)
    entries = [json.loads(line) for line in log_lines]
    token = next(e["verification_token"] for e in entries if e.get("email_to") == account["email"])
    assert client.post(f"{API}/auth/verify-email", json={"token": token + "x"}).status_code == 401
    assert client.post(f"{API}/auth/verify-email", json={"token": token}).status_code == 200
    profile = client.get(f"{API}/users/profile", headers=account["headers"]).json()
    assert profile["email_verified"] is True
    # access tokens are not usable as verify-email tokens, and vice versa
    bad = client.post(f"{API}/auth/verify-email", json={"token": account["tokens"]["access_token"]})
    assert bad.status_code == 401
    assert (
        client.get(f"{API}/users/profile", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_logs_are_json_with_request_ids_and_no_secrets(client, log_lines) -> None:
    account = register(client)
    client.get(
        f"{API}/users/profile", headers=dict(account["headers"], **{"X-Request-ID": "req-42"})
    )
    entries = [json.loads(line) for line in log_lines]
    assert all(entry["request_id"] for entry in entries)
    access = [e for e in entries if e["message"] == "request"]
    assert any(e["request_id"] == "req-42" and e["path"] == f"{API}/users/profile" for e in access)
    text = "\n".join(log_lines)
    assert PASSWORD not in text
    assert account["tokens"]["access_token"] not in text
    assert account["tokens"]["refresh_token"] not in text


def test_login_can_require_verified_email(make_settings) -> None:
    with TestClient(create_app(make_settings(require_email_verification=True))) as client:
        email = f"{uuid.uuid4().hex[:8]}@example.com"
        client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})
        response = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 401


def test_production_hashes_with_bcrypt_cost_12(monkeypatch) -> None:
    for name in ("ACCUNODE_BCRYPT_ROUNDS", "ACCUNODE_ENV"):
        monkeypatch.delenv(name, raising=False)
    production = Settings(
        env="production",
        jwt_secret="p" * 48,
        database_url="postgresql://u@db/accunode",
        redis_url="redis://cache:6379/0",
    )
    assert production.bcrypt_rounds == 12
    assert hash_password("x", rounds=production.bcrypt_rounds).startswith("$2b$12$")
