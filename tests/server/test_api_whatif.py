"""POST /predictions/{kind}/what-if: baseline and stressed scores, nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import API, annual_body, quarterly_body, register

from accunode_cli.scoring import load_model, ratio_names


def _ratios(kind: str) -> dict[str, Any]:
    body = annual_body() if kind == "annual" else quarterly_body()
    return {name: body[name] for name in ratio_names(kind)}


def test_annual_recession_with_a_five_year_horizon_stores_nothing(client) -> None:
    account = register(client)
    body = {**_ratios("annual"), "scenario": "recession", "horizon": 5}
    response = client.post(
        f"{API}/predictions/annual/what-if", json=body, headers=account["headers"]
    )
    assert response.status_code == 200, response.text
    data = response.json()
    expected = load_model("annual").score_one(_ratios("annual"))
    baseline, stressed = data["baseline"], data["stressed"]
    assert baseline["probability"] == expected.probability
    assert baseline["implied_rating"] == expected.implied_rating
    assert stressed["probability"] > baseline["probability"]
    assert data["probability_change"] == pytest.approx(
        stressed["probability"] - baseline["probability"]
    )
    for side in (baseline, stressed):
        curve = list(side["cumulative_pd"].values())
        assert list(side["cumulative_pd"]) == ["1y", "2y", "3y", "4y", "5y"]
        assert curve[0] == side["probability"] and curve == sorted(curve)
    assert data["scenario"]["name"] == "recession"
    assert set(data["scenario"]["shocks"]) == set(ratio_names("annual"))
    listed = client.get(f"{API}/predictions/annual", headers=account["headers"]).json()
    assert listed["total"] == 0
    assert client.get(f"{API}/companies", headers=account["headers"]).json()["total"] == 0


def test_quarterly_inline_shocks_and_zero_shocks(client) -> None:
    account = register(client)
    url = f"{API}/predictions/quarterly/what-if"
    shocked = client.post(
        url,
        json={**_ratios("quarterly"), "shocks": {"total_debt_to_ebitda": 1.5,
                                                 "return_on_capital": {"points": -4}}},
        headers=account["headers"],
    )  # fmt: skip
    assert shocked.status_code == 200, shocked.text
    data = shocked.json()
    assert data["scenario"]["shocks"] == {
        "total_debt_to_ebitda": {"factor": 1.5},
        "return_on_capital": {"points": -4.0},
    }
    assert data["stressed"]["probability"] > data["baseline"]["probability"]
    assert list(data["baseline"]["cumulative_pd"]) == ["1y"]  # horizon defaults to 1
    zero = client.post(
        url, json={**_ratios("quarterly"), "shocks": {}}, headers=account["headers"]
    ).json()
    assert zero["stressed"] == zero["baseline"] and zero["probability_change"] == 0


def test_a_sector_gets_its_sector_shocks(client) -> None:
    account = register(client)
    url = f"{API}/predictions/annual/what-if"
    plain = {**_ratios("annual"), "scenario": "recession"}
    general = client.post(url, json=plain, headers=account["headers"]).json()
    energy = client.post(url, json={**plain, "sector": "Energy"}, headers=account["headers"])
    assert energy.status_code == 200
    assert energy.json()["scenario"]["shocks"]["net_income_margin"] == {"points": -8.0}
    assert energy.json()["stressed"]["probability"] > general["stressed"]["probability"]


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        ({}, "invalid_input", "exactly one of scenario and shocks"),
        ({"scenario": "mild", "shocks": {}}, "invalid_input", "exactly one of scenario and shocks"),
        ({"scenario": "doom"}, "invalid_input", "scenario"),
        ({"scenario": "/etc/passwd.toml"}, "invalid_input", "scenario"),
        ({"shocks": {"total_debt_to_ebitda": -1}}, "invalid_input", "must be above 0"),
        ({"shocks": {"net_income_margin": {"factor": 2}}}, "invalid_input", "give { points"),
        ({"shocks": {"sga_margin": -2}}, "invalid_input", "not annual ratios"),
        ({"shocks": {"made_up": -2}}, "invalid_input", "not annual ratios"),
        ({"scenario": "mild", "horizon": 6}, "invalid_input", "horizon"),
        ({"scenario": "mild", "colour": "red"}, "invalid_input", "colour"),
    ],
)
def test_bad_what_if_requests_answer_422_with_the_envelope(client, extra, code, message) -> None:
    account = register(client)
    response = client.post(
        f"{API}/predictions/annual/what-if", json={**_ratios("annual"), **extra},
        headers=account["headers"],
    )  # fmt: skip
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert message in error["message"] or message in str(error["details"])


def test_what_if_needs_authentication(client) -> None:
    response = client.post(
        f"{API}/predictions/annual/what-if", json={**_ratios("annual"), "scenario": "mild"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_what_if_answer_405(client, method) -> None:
    account = register(client)
    response = client.request(
        method, f"{API}/predictions/quarterly/what-if", json={}, headers=account["headers"]
    )
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"


def test_a_boolean_ratio_is_refused(client) -> None:
    account = register(client)
    response = client.post(
        f"{API}/predictions/quarterly/what-if",
        json={**_ratios("quarterly"), "total_debt_to_ebitda": True, "scenario": "severe"},
        headers=account["headers"],
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
