"""Companies and predictions: scored by the core, NULL for missing, conflicts, lists, ETags."""

from __future__ import annotations

import threading

from api_helpers import API, annual_body, quarterly_body, register
from sqlalchemy import text

from accunode_cli.scoring import load_model
from accunode_cli.storage.db import make_engine


def test_create_annual_scores_through_the_core_and_stores_nulls(client, settings) -> None:
    account = register(client)
    body = annual_body(
        long_term_debt_to_total_capital=300.0, net_income_margin=-250.0, total_debt_to_ebitda=None
    )
    response = client.post(f"{API}/predictions/annual", json=body, headers=account["headers"])
    assert response.status_code == 201, response.text
    created = response.json()
    expected = load_model("annual").score_one({k: body[k] for k in created["contributions"]})
    assert created["probability"] == expected.probability
    assert created["model_version"] == expected.model_version
    assert created["risk_level"] == expected.risk_level
    assert created["implied_rating"] == expected.implied_rating
    assert created["flags"] == {"total_debt_to_ebitda": "missing"}
    assert created["long_term_debt_to_total_capital"] == 300.0
    assert created["net_income_margin"] == -250.0
    assert created["total_debt_to_ebitda"] is None
    assert created["company_symbol"] == "ACME"
    engine = make_engine(settings.effective_database_url)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT total_debt_to_ebitda, net_income_margin FROM annual_predictions")
        ).one()
    engine.dispose()
    assert stored[0] is None and stored[1] == -250.0  # missing is NULL, never 0


def test_a_second_prediction_for_the_period_is_a_conflict(client) -> None:
    headers = register(client)["headers"]
    first = client.post(f"{API}/predictions/annual", json=annual_body(), headers=headers)
    again = client.post(
        f"{API}/predictions/annual", json=annual_body(company_symbol="acme"), headers=headers
    )
    assert again.status_code == 409
    assert again.json()["error"]["details"]["existing_id"] == first.json()["id"]
    q1 = client.post(
        f"{API}/predictions/quarterly", json=quarterly_body(reporting_quarter="1"), headers=headers
    )
    assert q1.status_code == 201 and q1.json()["reporting_quarter"] == "Q1"
    for quarter in ("Q1", "q1", 1):
        same = client.post(
            f"{API}/predictions/quarterly",
            json=quarterly_body(reporting_quarter=quarter),
            headers=headers,
        )
        assert same.status_code == 409, quarter
        assert same.json()["error"]["details"]["existing_id"] == q1.json()["id"]
    for quarter in ("Q5", "0", "", True, 2.5):
        bad = client.post(
            f"{API}/predictions/quarterly",
            json=quarterly_body(reporting_quarter=quarter),
            headers=headers,
        )
        assert bad.status_code == 422, quarter


def test_racing_requests_cannot_both_insert(client) -> None:
    headers = register(client)["headers"]
    client.post(f"{API}/companies", json={"symbol": "RACE", "name": "Race"}, headers=headers)
    statuses: list[int] = []

    def post() -> None:
        response = client.post(
            f"{API}/predictions/annual", json=annual_body(company_symbol="RACE"), headers=headers
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 5
    listed = client.get(f"{API}/predictions/annual", headers=headers).json()
    assert listed["total"] == 1


def test_invalid_prediction_bodies(client) -> None:
    headers = register(client)["headers"]
    cases = [
        annual_body(company_symbol=None),  # neither company_id nor symbol
        annual_body(company_id="00000000-0000-0000-0000-000000000001"),  # both
        annual_body(reporting_year="soon"),
        annual_body(net_income_margin="lots"),
        annual_body(net_income_margin=True),  # JSON true is no ratio (it was read as 1.0)
        annual_body(extra_field=1),
    ]
    for body in cases:
        response = client.post(f"{API}/predictions/annual", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"]["fields"]
    nan = client.post(
        f"{API}/predictions/annual",
        content=b'{"company_symbol": "X", "reporting_year": 2024, "net_income_margin": NaN}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert nan.status_code == 422
    unknown = client.post(
        f"{API}/predictions/annual",
        json=annual_body(company_id="00000000-0000-0000-0000-000000000001", company_symbol=None),
        headers=headers,
    )
    assert unknown.status_code == 404


def test_list_filters_sort_and_pagination(client) -> None:
    headers = register(client)["headers"]
    for year, margin in ((2021, 10.0), (2022, -40.0), (2023, 5.0)):
        body = annual_body(reporting_year=year, net_income_margin=margin)
        assert (
            client.post(f"{API}/predictions/annual", json=body, headers=headers).status_code == 201
        )
    client.post(
        f"{API}/predictions/annual", json=annual_body(company_symbol="OTHER"), headers=headers
    )
    url = f"{API}/predictions/annual"
    assert client.get(url, params={"symbol": "acme"}, headers=headers).json()["total"] == 3
    assert client.get(url, params={"reporting_year": 2022}, headers=headers).json()["total"] == 1
    page = client.get(
        url, params={"size": 2, "page": 2, "sort": "reporting_year"}, headers=headers
    ).json()
    assert page["total"] == 4 and page["size"] == 2 and len(page["items"]) == 2
    ordered = client.get(url, params={"sort": "-probability", "size": 100}, headers=headers).json()
    probabilities = [item["probability"] for item in ordered["items"]]
    assert probabilities == sorted(probabilities, reverse=True)
    worst = ordered["items"][0]
    same_level = client.get(url, params={"risk_level": worst["risk_level"]}, headers=headers).json()
    assert worst["id"] in {item["id"] for item in same_level["items"]}
    assert client.get(url, params={"size": 101}, headers=headers).status_code == 422
    assert client.get(url, params={"sort": "password_hash"}, headers=headers).status_code == 400
    later = client.get(url, params={"created_from": "2999-01-01T00:00:00Z"}, headers=headers).json()
    assert later["total"] == 0


def test_put_rescores_delete_removes_and_the_cache_follows(client) -> None:
    headers = register(client)["headers"]
    created = client.post(f"{API}/predictions/annual", json=annual_body(), headers=headers).json()
    url = f"{API}/predictions/annual/{created['id']}"
    first = client.get(url, headers=headers)
    assert first.json() == created
    etag = first.headers["ETag"]
    assert client.get(url, headers={**headers, "If-None-Match": etag}).status_code == 304
    updated = client.put(
        url, json={"net_income_margin": -60.0, "return_on_assets": None}, headers=headers
    )
    assert updated.status_code == 200
    body = updated.json()
    assert body["probability"] > created["probability"]
    assert body["net_income_margin"] == -60.0 and body["return_on_assets"] is None
    assert body["total_debt_to_ebitda"] == created["total_debt_to_ebitda"]  # omitted: unchanged
    assert body["flags"] == {"return_on_assets": "missing"}
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 200 and again.json() == body  # the cached read was invalidated
    assert client.delete(url, headers=headers).status_code == 200
    assert client.get(url, headers=headers).status_code == 404


def test_companies_crud_with_latest_predictions(client) -> None:
    headers = register(client)["headers"]
    created = client.post(
        f"{API}/companies",
        json={"symbol": " acme ", "name": "Acme", "sector": "Tech"},
        headers=headers,
    )
    assert created.status_code == 201 and created.json()["symbol"] == "ACME"
    cid = created.json()["id"]
    dup = client.post(f"{API}/companies", json={"symbol": "ACME", "name": "Again"}, headers=headers)
    assert dup.status_code == 409
    client.post(f"{API}/predictions/annual", json=annual_body(reporting_year=2022), headers=headers)
    newest = client.post(
        f"{API}/predictions/annual", json=annual_body(reporting_year=2023), headers=headers
    )
    quarter = client.post(f"{API}/predictions/quarterly", json=quarterly_body(), headers=headers)
    detail = client.get(f"{API}/companies/{cid}", headers=headers)
    assert detail.json()["latest_annual_prediction"]["id"] == newest.json()["id"]
    assert detail.json()["latest_quarterly_prediction"]["id"] == quarter.json()["id"]
    assert (
        client.get(
            f"{API}/companies/{cid}", headers={**headers, "If-None-Match": detail.headers["ETag"]}
        ).status_code
        == 304
    )
    client.post(
        f"{API}/companies",
        json={"symbol": "ZED", "name": "Zed Ltd", "sector": "Mining"},
        headers=headers,
    )
    listed = client.get(f"{API}/companies", params={"search": "zed"}, headers=headers).json()
    assert [c["symbol"] for c in listed["items"]] == ["ZED"]
    assert (
        client.get(f"{API}/companies", params={"sector": "Tech"}, headers=headers).json()["total"]
        == 1
    )
    by_name = client.get(f"{API}/companies", params={"sort": "-name"}, headers=headers).json()
    assert [c["symbol"] for c in by_name["items"]] == ["ZED", "ACME"]
    renamed = client.put(f"{API}/companies/{cid}", json={"symbol": "zed"}, headers=headers)
    assert renamed.status_code == 409
    assert (
        client.put(f"{API}/companies/{cid}", json={"name": "Acme Inc"}, headers=headers).json()[
            "name"
        ]
        == "Acme Inc"
    )
    assert client.delete(f"{API}/companies/{cid}", headers=headers).status_code == 200
    gone = client.get(f"{API}/predictions/annual/{newest.json()['id']}", headers=headers)
    assert gone.status_code == 404  # predictions went with their company
