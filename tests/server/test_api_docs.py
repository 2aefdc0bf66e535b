"""The OpenAPI document: every route documented, with examples and the error envelope."""

from __future__ import annotations

from api_helpers import API, TestClient

from accunode_cli.server import create_app

EXPECTED = {
    ("post", "/auth/register"), ("post", "/auth/login"), ("post", "/auth/token"),
    ("post", "/auth/refresh-token"), ("post", "/auth/logout"), ("post", "/auth/verify-email"),
    ("post", "/auth/change-password"), ("get", "/users/profile"), ("put", "/users/profile"),
    ("get", "/users/organizations"), ("post", "/organizations"),
    ("get", "/organizations/{organization_id}"),
    ("get", "/organizations/{organization_id}/members"),
    ("post", "/organizations/{organization_id}/invitations"),
    ("post", "/organizations/invitations/accept"),
    ("put", "/organizations/{organization_id}/members/{user_id}"),
    ("delete", "/organizations/{organization_id}/members/{user_id}"),
    ("get", "/companies"), ("post", "/companies"), ("get", "/companies/{company_id}"),
    ("put", "/companies/{company_id}"), ("delete", "/companies/{company_id}"),
    ("get", "/predictions/annual"), ("post", "/predictions/annual"),
    ("get", "/predictions/annual/{prediction_id}"), ("put", "/predictions/annual/{prediction_id}"),
    ("delete", "/predictions/annual/{prediction_id}"),
    ("get", "/predictions/quarterly"), ("post", "/predictions/quarterly"),
    ("get", "/predictions/quarterly/{prediction_id}"),
    ("put", "/predictions/quarterly/{prediction_id}"),
    ("delete", "/predictions/quarterly/{prediction_id}"),
    ("get", "/health"), ("get", "/health/ready"),
    ("post", "/predictions/bulk-upload"), ("get", "/predictions/jobs"),
    ("get", "/predictions/jobs/{job_id}"), ("get", "/predictions/jobs/{job_id}/results"),
    ("get", "/predictions/jobs/{job_id}/errors"), ("post", "/predictions/jobs/{job_id}/cancel"),
    ("delete", "/predictions/jobs/{job_id}"),
    ("get", "/predictions/jobs/{job_id}/drift"),
    ("post", "/api-keys"), ("get", "/api-keys"), ("get", "/api-key"),
    ("delete", "/api-keys/{key_id}"),
}  # fmt: skip


def test_every_route_is_documented_with_examples(settings) -> None:
    with TestClient(create_app(settings)) as client:
        schema = client.get(f"{API}/openapi.json").json()
        assert client.get("/docs").status_code == 200
    operations = {
        (method, path.removeprefix(API)): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) >= EXPECTED
    components = schema["components"]["schemas"]
    for (method, path), operation in operations.items():
        assert operation.get("description") or operation.get("summary"), (method, path)
        if not path.startswith("/health"):
            assert {"401", "404", "422", "429"} <= set(operation["responses"]), (method, path)
            envelope = operation["responses"]["404"]["content"]["application/json"]["schema"]
            assert envelope["$ref"].endswith("/ErrorEnvelope")
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            name = body["schema"]["$ref"].rsplit("/", 1)[1]
            assert components[name].get("examples"), (method, path, name)
    assert "HTTPValidationError" not in components  # 422 is the envelope, not FastAPI's shape


def test_the_docs_page_loads_swagger_ui_from_the_server_itself(settings) -> None:
    import re

    with TestClient(create_app(settings)) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
        assert assets and all(url.startswith("/") for url in assets), assets  # no CDN
        for url in assets:
            response = client.get(url)
            assert response.status_code == 200, url
            assert len(response.content) > 1000, url
        assert client.get("/docs/oauth2-redirect").status_code == 200
