"""Races: real concurrent requests (threads released by a barrier) on SQLite and PostgreSQL.

Each race is repeated enough rounds to hit the window a read-then-write leaves open; every
round must end in one of the outcomes a serial order of the two requests could give.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import httpx
from api_helpers import API, PASSWORD, TestClient, annual_body, auth_headers, login, register

ROUNDS = 12


def race(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run the calls at the same moment (a barrier releases them together); return responses."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _org_with_two_owners(client: TestClient, a: dict[str, Any], b: dict[str, Any]) -> str:
    org = client.post(f"{API}/organizations", json={"name": "Shared"}, headers=a["headers"])
    org_id = org.json()["id"]
    invited = client.post(
        f"{API}/organizations/{org_id}/invitations",
        json={"email": b["email"], "role": "owner"},
        headers=a["headers"],
    )
    accepted = client.post(
        f"{API}/organizations/invitations/accept",
        json={"token": invited.json()["token"]},
        headers=b["headers"],
    )
    assert accepted.status_code == 200, accepted.text
    return str(org_id)


def _owners(client: TestClient, org_id: str, account: dict[str, Any]) -> list[str]:
    members = client.get(f"{API}/organizations/{org_id}/members", headers=account["headers"])
    return [m["user_id"] for m in members.json() if m["role"] == "owner"]


def test_two_owners_demoting_each_other_leave_one_owner(client: TestClient) -> None:
    a, b = register(client), register(client)
    for _ in range(ROUNDS):
        org_id = _org_with_two_owners(client, a, b)
        first, second = race(
            partial(
                client.put,
                f"{API}/organizations/{org_id}/members/{b['user']['id']}",
                json={"role": "admin"},
                headers=a["headers"],
            ),
            partial(
                client.put,
                f"{API}/organizations/{org_id}/members/{a['user']['id']}",
                json={"role": "admin"},
                headers=b["headers"],
            ),
        )
        # The loser gets 409 (the last-owner rule) when it ran while the winner's change was
        # in flight; 403 when it started after the winner committed (it is no owner by then).
        codes = sorted([first.status_code, second.status_code])
        assert codes in ([200, 409], [200, 403]), (first.text, second.text)
        assert len(_owners(client, org_id, a if first.status_code == 200 else b)) == 1


def test_two_owners_leaving_at_once_leave_one_owner(client: TestClient) -> None:
    a, b = register(client), register(client)
    for _ in range(ROUNDS):
        org_id = _org_with_two_owners(client, a, b)
        first, second = race(
            partial(
                client.delete,
                f"{API}/organizations/{org_id}/members/{a['user']['id']}",
                headers=a["headers"],
            ),
            partial(
                client.delete,
                f"{API}/organizations/{org_id}/members/{b['user']['id']}",
                headers=b["headers"],
            ),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409], (
            first.text,
            second.text,
        )
        stayed = b if first.status_code == 200 else a
        assert _owners(client, org_id, stayed) == [stayed["user"]["id"]]


def _dead(client: TestClient, pair: dict[str, Any]) -> bool:
    """Return whether both tokens of a pair are refused."""
    me = client.get(f"{API}/users/profile", headers=auth_headers(pair))
    again = client.post(f"{API}/auth/refresh-token", json={"refresh_token": pair["refresh_token"]})
    return me.status_code == 401 and again.status_code == 401


def _refresh(client: TestClient, token: str) -> Callable[[], httpx.Response]:
    return partial(client.post, f"{API}/auth/refresh-token", json={"refresh_token": token})


def test_password_change_ends_a_session_refreshing_at_that_moment(client: TestClient) -> None:
    owner = register(client)
    passwords = [PASSWORD, "another long passphrase"]
    for round_ in range(ROUNDS):
        current, new = passwords[round_ % 2], passwords[(round_ + 1) % 2]
        stolen = login(client, owner["email"], current)  # the attacker's copy of a session
        mine = login(client, owner["email"], current)
        changed, refreshed = race(
            partial(
                client.post,
                f"{API}/auth/change-password",
                json={"current_password": current, "new_password": new},
                headers=auth_headers(mine),
            ),
            _refresh(client, stolen["refresh_token"]),
        )
        assert changed.status_code == 200, changed.text
        assert refreshed.status_code in (200, 401), refreshed.text
        if refreshed.status_code == 200:
            assert _dead(client, refreshed.json()), f"round {round_}: the stolen chain survived"
        assert _dead(client, stolen)
        me = client.get(f"{API}/users/profile", headers=auth_headers(changed.json()))
        assert me.status_code == 200  # the pair the change returned works


def test_logout_ends_a_session_refreshing_at_that_moment(client: TestClient) -> None:
    account = register(client)
    for round_ in range(ROUNDS):
        pair = login(client, account["email"])
        out, refreshed = race(
            partial(
                client.post,
                f"{API}/auth/logout",
                json={"refresh_token": pair["refresh_token"]},
                headers=auth_headers(pair),
            ),
            _refresh(client, pair["refresh_token"]),
        )
        assert out.status_code in (200, 401), out.text
        if refreshed.status_code == 200:
            assert _dead(client, refreshed.json()), f"round {round_}: the session survived logout"


def test_reuse_of_a_refresh_token_ends_the_session_of_a_concurrent_rotation(
    client: TestClient,
) -> None:
    account = register(client)
    for round_ in range(ROUNDS):
        pair = login(client, account["email"])
        responses = race(
            _refresh(client, pair["refresh_token"]), _refresh(client, pair["refresh_token"])
        )
        assert sorted(r.status_code for r in responses) == [200, 401]
        winner = next(r for r in responses if r.status_code == 200)
        assert _dead(client, winner.json()), f"round {round_}: the reused chain survived"


def test_an_access_token_of_the_same_second_as_a_password_change_is_refused(
    client: TestClient,
) -> None:
    account = register(client)
    time.sleep(1.02 - time.time() % 1)  # start of a second: the change comes in the same one
    pair = login(client, account["email"])
    changed = client.post(
        f"{API}/auth/change-password",
        json={"current_password": PASSWORD, "new_password": "another long passphrase"},
        headers=account["headers"],
    )
    assert changed.status_code == 200
    for old in (account["tokens"], pair):
        assert client.get(f"{API}/users/profile", headers=auth_headers(old)).status_code == 401
    fresh = client.get(f"{API}/users/profile", headers=auth_headers(changed.json()))
    assert fresh.status_code == 200


def _company_with_prediction(client: TestClient, headers: dict[str, str]) -> tuple[str, str]:
    symbol = f"R{uuid.uuid4().hex[:8]}"
    company = client.post(f"{API}/companies", json={"symbol": symbol, "name": "R"}, headers=headers)
    assert company.status_code == 201, company.text
    company_id = company.json()["id"]
    created = client.post(
        f"{API}/predictions/annual",
        json=annual_body(company_symbol=None, company_id=company_id, reporting_year=2020),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return company_id, created.json()["id"]


def test_deleting_a_company_while_it_is_used_answers_404_or_409_never_500(
    client: TestClient,
) -> None:
    headers = register(client)["headers"]
    for _ in range(ROUNDS):
        company_id, prediction_id = _company_with_prediction(client, headers)
        delete = partial(client.delete, f"{API}/companies/{company_id}", headers=headers)
        others = [
            partial(
                client.post,
                f"{API}/predictions/annual",
                json=annual_body(company_symbol=None, company_id=company_id, reporting_year=2021),
                headers=headers,
            ),
            partial(
                client.put,
                f"{API}/companies/{company_id}",
                json={"name": "Renamed"},
                headers=headers,
            ),
            partial(
                client.put,
                f"{API}/predictions/annual/{prediction_id}",
                json={"net_income_margin": 1.5},
                headers=headers,
            ),
        ]
        responses = race(delete, *others)
        assert responses[0].status_code in (200, 404), responses[0].text
        for response, allowed in zip(
            responses[1:], ((201, 404, 409), (200, 404), (200, 404)), strict=True
        ):
            assert response.status_code in allowed, response.text
            if response.status_code >= 400:
                assert response.json()["error"]["code"] in ("not_found", "conflict")
        # the company is gone with everything it had, whichever came first
        assert client.get(f"{API}/companies/{company_id}", headers=headers).status_code == 404
        left = client.get(
            f"{API}/predictions/annual", params={"company_id": company_id}, headers=headers
        )
        assert left.json()["total"] == 0


def test_a_read_racing_an_update_never_leaves_the_old_body_cached(client: TestClient) -> None:
    headers = register(client)["headers"]
    _, prediction_id = _company_with_prediction(client, headers)
    url = f"{API}/predictions/annual/{prediction_id}"
    for round_ in range(3 * ROUNDS):
        margin = float(round_ % 7 + 1)
        client.get(url, headers=headers)  # cached before the race
        reads = [partial(client.get, url, headers=headers) for _ in range(3)]
        update = partial(client.put, url, json={"net_income_margin": margin}, headers=headers)
        responses = race(update, *reads)
        assert responses[0].status_code == 200, responses[0].text
        after = client.get(url, headers=headers).json()
        assert after["net_income_margin"] == margin, f"round {round_}: a stale body was cached"
