"""GET /predictions/{kind}[/{id}]?horizon=N: cumulative PDs for 1..N years on stored predictions."""

from __future__ import annotations

import numpy as np
import pytest
from api_helpers import API, annual_body, quarterly_body, register

from accunode_cli.analytics import cumulative_pds

YEARS = ["1y", "2y", "3y", "4y", "5y"]


def _check_curve(prediction: dict, horizon: int) -> None:
    curve = prediction["cumulative_pd"]
    assert list(curve) == YEARS[:horizon]
    values = list(curve.values())
    assert values[0] == prediction["probability"]  # exactly the stored figure
    assert values == sorted(values)
    expected = cumulative_pds(np.asarray([prediction["log_odds"]]), horizon)[0]
    assert values[1:] == pytest.approx(list(expected[1:]), rel=1e-12)


@pytest.mark.parametrize("kind", ["annual", "quarterly"])
def test_a_read_with_horizon_five_carries_the_term_structure(client, kind) -> None:
    headers = register(client)["headers"]
    body = annual_body() if kind == "annual" else quarterly_body()
    created = client.post(f"{API}/predictions/{kind}", json=body, headers=headers).json()
    assert "cumulative_pd" not in created  # the create path is unchanged
    url = f"{API}/predictions/{kind}/{created['id']}"
    plain = client.get(url, headers=headers)
    assert plain.status_code == 200 and plain.json() == created  # no horizon: no key
    five = client.get(url, params={"horizon": 5}, headers=headers)
    assert five.status_code == 200, five.text
    data = five.json()
    _check_curve(data, 5)
    assert data["cumulative_pd"]["5y"] > data["probability"]
    assert {k: v for k, v in data.items() if k != "cumulative_pd"} == created
    # one horizon's ETag never answers for another, nor for the plain read (cached or not)
    assert five.headers["ETag"] != plain.headers["ETag"]
    for _ in range(2):
        again = client.get(url, headers={**headers, "If-None-Match": plain.headers["ETag"]})
        assert again.status_code == 304
        other = client.get(
            url, params={"horizon": 2},
            headers={**headers, "If-None-Match": five.headers["ETag"]},
        )  # fmt: skip
        assert other.status_code == 200
        _check_curve(other.json(), 2)
        same = client.get(
            url, params={"horizon": 5},
            headers={**headers, "If-None-Match": five.headers["ETag"]},
        )  # fmt: skip
        assert same.status_code == 304
        assert "cumulative_pd" not in client.get(url, headers=headers).json()


@pytest.mark.parametrize("horizon", ["0", "6", "-1", "two"])
@pytest.mark.parametrize("route", ["one", "list"])
def test_a_horizon_outside_one_to_five_is_422_with_the_envelope(client, horizon, route) -> None:
    headers = register(client)["headers"]
    created = client.post(f"{API}/predictions/annual", json=annual_body(), headers=headers).json()
    url = f"{API}/predictions/annual" + (f"/{created['id']}" if route == "one" else "")
    response = client.get(url, params={"horizon": horizon}, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "horizon" in error["message"] or "horizon" in str(error["details"])


@pytest.mark.parametrize("kind", ["annual", "quarterly"])
def test_the_list_with_horizon_gives_every_item_its_curve(client, kind) -> None:
    headers = register(client)["headers"]
    make = annual_body if kind == "annual" else quarterly_body
    for symbol, year in (("AAA", 2022), ("BBB", 2023), ("CCC", 2024)):
        created = client.post(
            f"{API}/predictions/{kind}",
            json=make(company_symbol=symbol, reporting_year=year),
            headers=headers,
        )
        assert created.status_code == 201, created.text
    url = f"{API}/predictions/{kind}"
    plain = client.get(url, headers=headers).json()
    assert plain["total"] == 3
    assert all("cumulative_pd" not in item for item in plain["items"])
    three = client.get(url, params={"horizon": 3, "size": 2}, headers=headers)
    assert three.status_code == 200, three.text
    page = three.json()
    assert page["total"] == 3 and len(page["items"]) == 2
    for item, before in zip(page["items"], plain["items"], strict=False):
        _check_curve(item, 3)
        assert {k: v for k, v in item.items() if k != "cumulative_pd"} == before
