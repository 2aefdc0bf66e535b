"""Small API behaviours: times without offset, NUL characters, HEAD /health, literal search,
private embedded database files, and ratio text read as the CLI reads it."""

from __future__ import annotations

import stat
from pathlib import Path

from api_helpers import API, TestClient, annual_body, register

from accunode_cli.config import Settings
from accunode_cli.server import create_app


def test_created_from_without_offset_is_read_as_utc(client: TestClient) -> None:
    headers = register(client)["headers"]
    assert client.post(f"{API}/predictions/annual", json=annual_body(), headers=headers).is_success
    for value in ("2024-01-01", "2024-01-01T00:00:00", "2024-01-01T00:00:00+02:00"):
        response = client.get(
            f"{API}/predictions/annual", params={"created_from": value}, headers=headers
        )
        assert response.status_code == 200, (value, response.text)
        assert response.json()["total"] == 1
    future = client.get(
        f"{API}/predictions/annual", params={"created_to": "2000-01-01"}, headers=headers
    )
    assert future.json()["total"] == 0


def test_nul_characters_are_refused_alike_on_every_backend(client: TestClient) -> None:
    headers = register(client)["headers"]
    for body in ({"symbol": "NUL", "name": "a\u0000b"}, {"symbol": "N\u0000L", "name": "x"}):
        response = client.post(f"{API}/companies", json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_input"
        assert "NUL" in response.json()["error"]["message"]
    query = client.get(f"{API}/companies?search=a%00b", headers=headers)
    assert query.status_code == 422 and query.json()["error"]["code"] == "invalid_input"
    # an escaped backslash followed by "u0000" is text, not a NUL
    fine = client.post(
        f"{API}/companies", json={"symbol": "BS", "name": "back\\u0000slash"}, headers=headers
    )
    assert fine.status_code == 201 and fine.json()["name"] == "back\\u0000slash"


def test_head_health_answers_200(client: TestClient) -> None:
    response = client.head(f"{API}/health")
    assert response.status_code == 200 and response.content == b""


def test_search_matches_percent_and_underscore_literally(client: TestClient) -> None:
    headers = register(client)["headers"]
    for symbol, name in (("A_B", "Under score"), ("AXB", "Plain"), ("PCT", "100% Holdings")):
        created = client.post(
            f"{API}/companies", json={"symbol": symbol, "name": name}, headers=headers
        )
        assert created.status_code == 201
    for search, expected in (("_", ["A_B"]), ("%", ["PCT"]), ("a_b", ["A_B"]), ("x", ["AXB"])):
        found = client.get(f"{API}/companies", params={"search": search}, headers=headers)
        assert [c["symbol"] for c in found.json()["items"]] == expected, search


def test_the_embedded_database_is_private_to_its_owner(make_settings, tmp_path: Path) -> None:
    settings: Settings = make_settings(database_url=None, redis_url=None)
    with TestClient(create_app(settings)):
        pass
    folder = settings.data_dir
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.glob("accunode.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_ratio_text_means_what_it_means_to_the_cli(client: TestClient) -> None:
    headers = register(client)["headers"]

    def create(**ratios: object) -> dict:
        body = annual_body(company_symbol=f"T{len(ratios)}{abs(hash(str(ratios))) % 10**6}")
        body.update(ratios)
        response = client.post(f"{API}/predictions/annual", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    numbers = create(net_income_margin=8.5, total_debt_to_ebitda=2100.0)
    text = create(net_income_margin="8.5%", total_debt_to_ebitda="2,100")
    assert text["probability"] == numbers["probability"]
    assert text["net_income_margin"] == 8.5 and text["total_debt_to_ebitda"] == 2100.0

    nm = create(ebit_to_interest_expense="NM", return_on_assets="n/a")
    assert nm["flags"] == {
        "ebit_to_interest_expense": "not_meaningful",
        "return_on_assets": "missing",
    }
    missing = create(ebit_to_interest_expense=None, return_on_assets=None)
    assert missing["flags"]["ebit_to_interest_expense"] == "missing"
    # a rescore keeps "NM" as not meaningful (it is stored NULL, flagged)
    rescored = client.put(
        f"{API}/predictions/annual/{nm['id']}", json={"net_income_margin": 8.5}, headers=headers
    )
    assert rescored.status_code == 200
    assert rescored.json()["flags"] == nm["flags"]
    assert rescored.json()["probability"] == nm["probability"]

    bad = client.post(
        f"{API}/predictions/annual",
        json=annual_body(company_symbol="BAD", net_income_margin="lots"),
        headers=headers,
    )
    assert bad.status_code == 422
