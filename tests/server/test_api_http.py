"""Cross-cutting HTTP behaviour: envelope, headers, limits, CORS, client address, health."""

from __future__ import annotations

import uuid

from api_helpers import API, TestClient, annual_body, register
from fastapi import FastAPI

from accunode_cli.errors import AccuNodeError, all_error_classes
from accunode_cli.server import create_app


def _is_envelope(body: dict) -> bool:
    error = body.get("error")
    return (
        set(body) == {"error"}
        and isinstance(error, dict)
        and set(error) == {"code", "message", "details"}
        and isinstance(error["details"], dict)
    )


def test_every_error_class_renders_as_the_envelope(settings) -> None:
    app: FastAPI = create_app(settings)
    classes = all_error_classes()

    def raiser(index: int) -> None:
        raise classes[index]("something happened", details={"index": index})

    app.add_api_route("/raise/{index}", raiser)
    with TestClient(app) as client:
        for index, cls in enumerate(classes):
            response = client.get(f"/raise/{index}")
            assert response.status_code == cls.http_status, cls
            body = response.json()
            assert _is_envelope(body) and body["error"]["code"] == cls.code
            assert body["error"]["details"]["index"] == index
            assert response.headers["x-request-id"]


def test_unexpected_exceptions_answer_500_without_their_text(settings) -> None:
    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("database password is hunter2")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 500
    assert _is_envelope(response.json())
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert response.headers["x-request-id"] == "trace-me"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_framework_errors_use_the_envelope(client) -> None:
    headers = register(client)["headers"]
    cases = [
        client.get(f"{API}/nowhere"),
        client.delete(f"{API}/health"),
        client.get(f"{API}/companies/not-a-uuid", headers=headers),
        client.post(
            f"{API}/companies",
            content=b"{not json",
            headers={**headers, "Content-Type": "application/json"},
        ),
        client.get(f"{API}/companies"),
    ]
    assert [r.status_code for r in cases] == [404, 405, 422, 422, 401]
    for response in cases:
        assert _is_envelope(response.json()), response.text
    assert client.patch(f"{API}/companies").headers["Allow"] == "GET, HEAD, POST"
    fields = cases[2].json()["error"]["details"]["fields"]
    assert fields[0]["field"] == "path.company_id"


def test_security_headers_and_request_ids(client) -> None:
    response = client.get(f"{API}/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in response.headers  # plain HTTP
    assert len(response.headers["x-request-id"]) == 32
    echoed = client.get(f"{API}/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    unsafe = client.get(f"{API}/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"


def test_hsts_only_behind_https(make_settings) -> None:
    with TestClient(create_app(make_settings()), base_url="https://testserver") as client:
        assert "max-age" in client.get(f"{API}/health").headers["strict-transport-security"]


def test_body_size_limit(make_settings) -> None:
    with TestClient(create_app(make_settings(max_body_bytes=2000))) as client:
        headers = register(client)["headers"]
        big = annual_body(company_name="x" * 5000)
        response = client.post(f"{API}/predictions/annual", json=big, headers=headers)
        assert response.status_code == 413 and _is_envelope(response.json())

        def chunks():  # no Content-Length: the limit is enforced while reading
            for _ in range(10):
                yield b"x" * 500

        streamed = client.post(
            f"{API}/predictions/annual",
            content=chunks(),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert streamed.status_code == 413 and _is_envelope(streamed.json())


def test_cors_is_off_by_default_and_follows_the_setting(make_settings) -> None:
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
    with TestClient(create_app(make_settings())) as client:
        response = client.options(f"{API}/auth/login", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    with TestClient(create_app(make_settings(cors_origins=["https://app.example.com"]))) as client:
        response = client.options(f"{API}/auth/login", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://app.example.com"
        other = client.options(
            f"{API}/auth/login", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers


def test_rate_limit_per_client_answers_429_with_retry_after(make_settings) -> None:
    with TestClient(create_app(make_settings(rate_limit_per_minute=5))) as client:
        statuses = [client.get(f"{API}/companies").status_code for _ in range(7)]
        assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
        response = client.get(f"{API}/companies")
        assert 0 < int(response.headers["Retry-After"]) <= 60
        assert response.json()["error"]["code"] == "rate_limited"
        # a forged X-Forwarded-For does not buy a fresh budget
        forged = client.get(f"{API}/companies", headers={"X-Forwarded-For": "198.51.100.7"})
        assert forged.status_code == 429


def test_forwarded_for_is_trusted_only_from_configured_proxies(make_settings) -> None:
    settings = make_settings(rate_limit_per_minute=2, trusted_proxies=["testclient", "127.0.0.0/8"])
    # "testclient" is not an IP address, so it is never trusted: the header is ignored
    with TestClient(create_app(settings)) as client:
        for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            last = client.get(f"{API}/companies", headers={"X-Forwarded-For": ip})
        assert last.status_code == 429
    with TestClient(create_app(settings), client=("127.0.0.1", 5000)) as client:
        for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            last = client.get(f"{API}/companies", headers={"X-Forwarded-For": f"{ip}, 127.0.0.5"})
        assert last.status_code == 401  # each forwarded client has its own budget


def test_per_user_rate_limit(make_settings) -> None:
    with TestClient(create_app(make_settings(rate_limit_per_minute=8))) as client:
        account = register(client)  # register + login + organizations: 3 requests
        statuses = [
            client.get(f"{API}/users/profile", headers={**account["headers"]}).status_code
            for _ in range(6)
        ]
        assert 429 in statuses


def test_health_and_readiness(client) -> None:
    alive = client.get(f"{API}/health")
    assert alive.status_code == 200 and alive.json()["status"] == "ok"
    ready = client.get(f"{API}/health/ready")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["model_annual"].startswith("annual-")
    assert "redis" in checks
    assert "password" not in ready.text and "redis://" not in ready.text


def test_readiness_fails_when_redis_is_gone_but_requests_still_work(make_settings) -> None:
    settings = make_settings(redis_url="redis://:s3cret@127.0.0.1:1/0")
    with TestClient(create_app(settings)) as client:
        ready = client.get(f"{API}/health/ready")
        assert ready.status_code == 503
        assert ready.json()["error"]["details"]["failed"] == ["redis"]
        assert "s3cret" not in ready.text
        account = register(client)  # rate limits, revocation and cache degrade to in-process
        created = client.post(
            f"{API}/predictions/annual", json=annual_body(), headers=account["headers"]
        )
        assert created.status_code == 201
        got = client.get(
            f"{API}/predictions/annual/{created.json()['id']}", headers=account["headers"]
        )
        assert got.status_code == 200
        body = {"refresh_token": account["tokens"]["refresh_token"]}
        assert (
            client.post(f"{API}/auth/logout", json=body, headers=account["headers"]).status_code
            == 200
        )
        assert client.get(f"{API}/users/profile", headers=account["headers"]).status_code == 401


def test_readiness_fails_when_the_database_is_gone(tmp_path) -> None:
    from api_helpers import TEST_SECRET
    from dbservers import create_pg_database, drop_pg_database

    from accunode_cli.config import Settings

    url = create_pg_database()  # PostgreSQL: a dropped SQLite file would just be recreated
    settings = Settings(
        env="test", data_dir=tmp_path, database_url=url, jwt_secret=TEST_SECRET, bcrypt_rounds=4
    )
    with TestClient(create_app(settings)) as client:
        assert client.get(f"{API}/health/ready").status_code == 200
        drop_pg_database(url)
        ready = client.get(f"{API}/health/ready")
        assert ready.status_code == 503
        assert ready.json()["error"]["details"]["failed"] == ["database"]
        body = {"email": f"{uuid.uuid4().hex}@example.com", "password": "x"}
        response = client.post(f"{API}/auth/login", json=body)
        assert response.status_code == 503
        assert _is_envelope(response.json())


def test_error_classes_are_complete() -> None:
    assert all(issubclass(cls, AccuNodeError) for cls in all_error_classes())


def test_single_resource_gets_have_etags(client) -> None:
    account = register(client)
    headers = account["headers"]
    for path in ("/users/profile", f"/organizations/{account['org_id']}"):
        first = client.get(f"{API}{path}", headers=headers)
        assert first.status_code == 200 and first.headers["ETag"]
        again = client.get(
            f"{API}{path}", headers={**headers, "If-None-Match": first.headers["ETag"]}
        )
        assert again.status_code == 304 and again.content == b""
    client.put(f"{API}/users/profile", json={"full_name": "New Name"}, headers=headers)
    changed = client.get(
        f"{API}/users/profile", headers={**headers, "If-None-Match": first.headers["ETag"]}
    )
    assert changed.status_code == 200


def test_values_the_database_cannot_hold_are_422_not_500(client) -> None:
    long_name = {"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "long enough 1"}
    created = client.post(f"{API}/auth/register", json={**long_name, "full_name": "x" * 200})
    assert created.status_code == 201  # the personal organization's name is cut to fit
    nul = client.post(f"{API}/auth/token", data={"username": "a\x00b", "password": "x"})
    assert nul.status_code in (401, 422) and _is_envelope(nul.json())
    headers = register(client)["headers"]
    company = client.post(
        f"{API}/companies", json={"symbol": "NUL", "name": "a\x00b"}, headers=headers
    )
    assert company.status_code in (201, 422) and company.status_code != 500
