"""Login and registration limits: atomic reservations, per account and address, no account
enumeration through registration, and passwords bcrypt can hold whole."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from api_helpers import API, PASSWORD, TestClient, register

from accunode_cli.server import create_app


def _login(client: TestClient, email: str, password: str, address: str | None = None) -> int:
    headers = {"X-Forwarded-For": address} if address else None
    body = {"email": email, "password": password}
    return client.post(f"{API}/auth/login", json=body, headers=headers).status_code


def test_parallel_guesses_cannot_pass_the_login_limit(make_settings) -> None:
    with TestClient(create_app(make_settings(login_attempts_per_15_minutes=10))) as client:
        email = register(client)["email"]
        guesses = [f"wrong guess {i}" for i in range(60)]
        barrier = threading.Barrier(len(guesses))

        def attempt(password: str) -> int:
            barrier.wait(timeout=10)
            return _login(client, email, password)

        with ThreadPoolExecutor(len(guesses)) as pool:
            codes = list(pool.map(attempt, guesses))
        # exactly the limit's worth reached the password check; the rest were refused unchecked
        assert codes.count(401) == 10 and codes.count(429) == 50, codes
        # the correct password, sent after the burst, is refused: the window is spent
        assert _login(client, email, PASSWORD) == 429


def test_guesses_from_elsewhere_do_not_lock_the_owner_out(make_settings) -> None:
    settings = make_settings(
        login_attempts_per_15_minutes=3,
        login_account_attempts_per_minute=8,
        trusted_proxies=["127.0.0.1"],
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        email = register(client)["email"]
        attacker = [_login(client, email, "guess", "203.0.113.9") for _ in range(6)]
        assert attacker == [401, 401, 401, 429, 429, 429]
        assert _login(client, email, PASSWORD, "198.51.100.7") == 200  # the owner, elsewhere
        # the account's own ceiling (any address) slows a distributed guesser per minute
        spread = [_login(client, email, "guess", f"192.0.2.{i}") for i in range(1, 10)]
        assert 429 in spread
        blocked = client.post(
            f"{API}/auth/login",
            json={"email": email, "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.7"},
        )
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) <= 60


def test_registration_answers_alike_for_a_taken_email(client: TestClient, caplog) -> None:
    email = f"taken-{uuid.uuid4().hex[:8]}@example.com"
    first = client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})
    again = client.post(
        f"{API}/auth/register", json={"email": email.upper(), "password": "another password"}
    )
    assert first.status_code == again.status_code == 201
    assert set(first.json()) == set(again.json())
    assert again.json()["email_verified"] is False
    assert any("registration of an existing email" in r.getMessage() for r in caplog.records)
    # the original password still logs in; the second one does not
    assert _login(client, email, PASSWORD) == 200
    assert _login(client, email, "another password") == 401


def test_registration_is_limited_per_address(make_settings) -> None:
    with TestClient(create_app(make_settings(registrations_per_hour=3))) as client:
        codes = [
            client.post(
                f"{API}/auth/register",
                json={"email": f"flood-{i}-{uuid.uuid4().hex[:6]}@x.com", "password": PASSWORD},
            ).status_code
            for i in range(5)
        ]
        assert codes == [201, 201, 201, 429, 429]


def test_passwords_longer_than_72_bytes_are_refused(client: TestClient) -> None:
    long = "a" * 60 + "é" * 7  # 67 characters, 74 bytes in UTF-8
    response = client.post(
        f"{API}/auth/register", json={"email": "long@example.com", "password": long}
    )
    assert response.status_code == 422
    field = response.json()["error"]["details"]["fields"][0]
    assert field["field"] == "body.password" and "72 bytes" in field["message"]
    account = register(client)
    change = client.post(
        f"{API}/auth/change-password",
        json={"current_password": PASSWORD, "new_password": "x" * 90},
        headers=account["headers"],
    )
    assert change.status_code == 422
