"""A prediction without any ratio value is no company-year: 422, nothing stored."""

from __future__ import annotations

from api_helpers import API, annual_body, quarterly_body, register

ANNUAL = (
    "long_term_debt_to_total_capital",
    "total_debt_to_ebitda",
    "net_income_margin",
    "ebit_to_interest_expense",
    "return_on_assets",
)
QUARTERLY = (
    "total_debt_to_ebitda",
    "sga_margin",
    "long_term_debt_to_total_capital",
    "return_on_capital",
)


def test_no_ratio_values_is_422_and_stores_nothing(client) -> None:
    headers = register(client)["headers"]
    empty = annual_body(**dict.fromkeys(ANNUAL))
    response = client.post(f"{API}/predictions/annual", json=empty, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and "no ratio values" in error["message"]
    omitted = {k: v for k, v in annual_body().items() if k not in ANNUAL}
    assert (
        client.post(f"{API}/predictions/annual", json=omitted, headers=headers).status_code == 422
    )
    quarterly = quarterly_body(**dict.fromkeys(QUARTERLY))
    answer = client.post(f"{API}/predictions/quarterly", json=quarterly, headers=headers)
    assert answer.status_code == 422, answer.text
    listed = client.get(f"{API}/predictions/annual", headers=headers).json()
    assert listed["total"] == 0
    one = annual_body(**{**dict.fromkeys(ANNUAL), "net_income_margin": 8.5})
    created = client.post(f"{API}/predictions/annual", json=one, headers=headers)
    assert created.status_code == 201, created.text
    url = f"{API}/predictions/annual/{created.json()['id']}"
    emptied = client.put(url, json={"net_income_margin": None}, headers=headers)
    assert emptied.status_code == 422, emptied.text  # a rescore cannot empty it either
    assert client.get(url, headers=headers).json()["net_income_margin"] == 8.5
