"""Tenancy and roles: org A sees nothing of B (404, never 403); each role does exactly its part."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import API, annual_body, auth_headers, quarterly_body, register


def _shared_org(client, owner: dict[str, Any], name: str) -> str:
    response = client.post(f"{API}/organizations", json={"name": name}, headers=owner["headers"])
    assert response.status_code == 201
    return response.json()["id"]


def _join(client, owner: dict[str, Any], org_id: str, role: str) -> dict[str, Any]:
    member = register(client)
    invited = client.post(
        f"{API}/organizations/{org_id}/invitations",
        json={"email": member["email"], "role": role},
        headers=owner["headers"],
    )
    assert invited.status_code == 201, invited.text
    accepted = client.post(
        f"{API}/organizations/invitations/accept",
        json={"token": invited.json()["token"]},
        headers=member["headers"],
    )
    assert accepted.status_code == 200 and accepted.json()["role"] == role
    member["org_headers"] = auth_headers(member["tokens"], org_id)
    return member


@pytest.fixture
def world(client) -> dict[str, Any]:
    """Organization A with an owner, admin, analyst and viewer; organization B with data."""
    a_owner = register(client)
    org_a = _shared_org(client, a_owner, "Org A")
    a_owner["org_headers"] = auth_headers(a_owner["tokens"], org_a)
    members = {role: _join(client, a_owner, org_a, role) for role in ("admin", "analyst", "viewer")}
    b_owner = register(client)
    org_b = _shared_org(client, b_owner, "Org B")
    b_headers = auth_headers(b_owner["tokens"], org_b)
    annual = client.post(f"{API}/predictions/annual", json=annual_body(), headers=b_headers)
    quarterly = client.post(
        f"{API}/predictions/quarterly", json=quarterly_body(), headers=b_headers
    )
    assert annual.status_code == quarterly.status_code == 201
    a_company = client.post(
        f"{API}/companies", json={"symbol": "AAA", "name": "A Co"}, headers=a_owner["org_headers"]
    ).json()
    return {
        "org_a": org_a,
        "org_b": org_b,
        "owner": a_owner,
        **members,
        "b_owner": b_owner,
        "b_headers": b_headers,
        "b_company": annual.json()["company_id"],
        "b_annual": annual.json()["id"],
        "b_quarterly": quarterly.json()["id"],
        "b_user_id": b_owner["user"]["id"],
        "a_company": a_company["id"],
    }


def _b_requests(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    company, annual, quarterly, org_b = w["b_company"], w["b_annual"], w["b_quarterly"], w["org_b"]
    return [
        ("GET", f"/companies/{company}", None),
        ("PUT", f"/companies/{company}", {"name": "stolen"}),
        ("DELETE", f"/companies/{company}", None),
        ("GET", f"/predictions/annual/{annual}", None),
        ("PUT", f"/predictions/annual/{annual}", {"net_income_margin": 1.0}),
        ("DELETE", f"/predictions/annual/{annual}", None),
        ("GET", f"/predictions/quarterly/{quarterly}", None),
        ("PUT", f"/predictions/quarterly/{quarterly}", {"sga_margin": 1.0}),
        ("DELETE", f"/predictions/quarterly/{quarterly}", None),
        ("POST", "/predictions/annual", annual_body(company_id=company, company_symbol=None)),
        ("POST", "/predictions/quarterly", quarterly_body(company_id=company, company_symbol=None)),
        ("GET", f"/organizations/{org_b}", None),
        ("GET", f"/organizations/{org_b}/members", None),
        (
            "POST",
            f"/organizations/{org_b}/invitations",
            {"email": "x@example.com", "role": "viewer"},
        ),
        ("PUT", f"/organizations/{org_b}/members/{w['b_user_id']}", {"role": "viewer"}),
        ("DELETE", f"/organizations/{org_b}/members/{w['b_user_id']}", None),
    ]


@pytest.mark.parametrize("role", ["owner", "admin", "analyst", "viewer"])
def test_organization_a_cannot_touch_anything_of_b(client, world, role: str) -> None:
    user = world[role]
    for headers in (user["org_headers"], user["headers"]):  # acting in A, or in the personal org
        for method, path, body in _b_requests(world):
            response = client.request(method, f"{API}{path}", json=body, headers=headers)
            assert response.status_code == 404, (role, method, path, response.text)
            assert response.json()["error"]["code"] == "not_found"
    # naming B's organization in the header does not help
    as_b = auth_headers(user["tokens"], world["org_b"])
    for path in ("/companies", "/predictions/annual", "/predictions/quarterly"):
        assert client.get(f"{API}{path}", headers=as_b).status_code == 404
    for method, path, body in _b_requests(world)[:9]:
        response = client.request(method, f"{API}{path}", json=body, headers=as_b)
        assert response.status_code == 404, (role, method, path)
    # lists in A show nothing of B, even filtered by B's company
    for path in ("/predictions/annual", "/predictions/quarterly"):
        listed = client.get(f"{API}{path}", headers=user["org_headers"]).json()
        assert listed["total"] == 0
        filtered = client.get(
            f"{API}{path}", params={"company_id": world["b_company"]}, headers=user["org_headers"]
        ).json()
        assert filtered["items"] == []
    companies = client.get(f"{API}/companies", headers=user["org_headers"]).json()
    assert [c["id"] for c in companies["items"]] == [world["a_company"]]
    orgs = client.get(f"{API}/users/organizations", headers=user["headers"]).json()
    assert world["org_b"] not in {o["id"] for o in orgs}
    # and B's data is intact
    b_headers = world["b_headers"]
    assert client.get(f"{API}/companies/{world['b_company']}", headers=b_headers).status_code == 200
    annual = client.get(f"{API}/predictions/annual/{world['b_annual']}", headers=b_headers)
    assert annual.status_code == 200


@pytest.mark.parametrize("role", ["owner", "admin", "analyst", "viewer"])
def test_each_role_reads_and_only_analysts_and_above_write(client, world, role: str) -> None:
    headers = world[role]["org_headers"]
    writes = role != "viewer"
    expected_write = {True: (200, 201), False: (403,)}[writes]
    assert client.get(f"{API}/companies", headers=headers).status_code == 200
    assert client.get(f"{API}/companies/{world['a_company']}", headers=headers).status_code == 200
    assert client.get(f"{API}/predictions/annual", headers=headers).status_code == 200
    created = client.post(
        f"{API}/companies", json={"symbol": f"R{role}", "name": "R"}, headers=headers
    )
    assert created.status_code in expected_write
    annual = client.post(
        f"{API}/predictions/annual",
        json=annual_body(company_id=world["a_company"], company_symbol=None),
        headers=headers,
    )
    assert annual.status_code in expected_write
    if writes:
        pid = annual.json()["id"]
        got = client.get(f"{API}/predictions/annual/{pid}", headers=headers)
        assert got.status_code == 200
        put = client.put(
            f"{API}/predictions/annual/{pid}", json={"return_on_assets": -3}, headers=headers
        )
        assert put.status_code == 200
        assert client.delete(f"{API}/predictions/annual/{pid}", headers=headers).status_code == 200
        cid = created.json()["id"]
        assert (
            client.put(f"{API}/companies/{cid}", json={"sector": "X"}, headers=headers).status_code
            == 200
        )
        assert client.delete(f"{API}/companies/{cid}", headers=headers).status_code == 200
    else:
        owner = world["owner"]["org_headers"]
        pid = client.post(
            f"{API}/predictions/annual",
            json=annual_body(company_id=world["a_company"], company_symbol=None),
            headers=owner,
        ).json()["id"]
        assert client.get(f"{API}/predictions/annual/{pid}", headers=headers).status_code == 200
        for method, path, body in (
            ("PUT", f"/predictions/annual/{pid}", {"return_on_assets": -3}),
            ("DELETE", f"/predictions/annual/{pid}", None),
            ("PUT", f"/companies/{world['a_company']}", {"sector": "X"}),
            ("DELETE", f"/companies/{world['a_company']}", None),
        ):
            response = client.request(method, f"{API}{path}", json=body, headers=headers)
            assert response.status_code == 403, (method, path)
            assert response.json()["error"]["code"] == "forbidden"


def test_member_management_rules(client, world) -> None:
    org = world["org_a"]
    members = f"{API}/organizations/{org}/members"
    invitations = f"{API}/organizations/{org}/invitations"
    ids = {role: world[role]["user"]["id"] for role in ("owner", "admin", "analyst", "viewer")}
    for role in ("analyst", "viewer"):  # only owners and admins manage members
        headers = world[role]["org_headers"]
        invite = client.post(
            invitations, json={"email": "n@example.com", "role": "viewer"}, headers=headers
        )
        assert invite.status_code == 403
        put = client.put(f"{members}/{ids['viewer']}", json={"role": "analyst"}, headers=headers)
        assert put.status_code == 403
        assert client.get(members, headers=headers).status_code == 200
    admin = world["admin"]["org_headers"]
    assert (
        client.post(
            invitations, json={"email": "o@example.com", "role": "owner"}, headers=admin
        ).status_code
        == 403
    )
    assert (
        client.post(
            invitations, json={"email": "o@example.com", "role": "admin"}, headers=admin
        ).status_code
        == 201
    )
    assert (
        client.put(f"{members}/{ids['viewer']}", json={"role": "owner"}, headers=admin).status_code
        == 403
    )
    assert (
        client.put(f"{members}/{ids['owner']}", json={"role": "viewer"}, headers=admin).status_code
        == 403
    )
    assert client.delete(f"{members}/{ids['owner']}", headers=admin).status_code == 403
    assert (
        client.put(
            f"{members}/{ids['viewer']}", json={"role": "analyst"}, headers=admin
        ).status_code
        == 200
    )
    owner = world["owner"]["org_headers"]
    assert (
        client.put(f"{members}/{ids['owner']}", json={"role": "admin"}, headers=owner).status_code
        == 409
    )
    assert client.delete(f"{members}/{ids['owner']}", headers=owner).status_code == 409
    assert client.delete(f"{members}/{ids['analyst']}", headers=owner).status_code == 200
    # a removed member loses access at once: the organization no longer exists for them
    analyst = world["analyst"]["org_headers"]
    assert client.get(f"{API}/companies", headers=analyst).status_code == 404
    # anyone may leave
    viewer = world["viewer"]["org_headers"]
    assert client.delete(f"{members}/{ids['viewer']}", headers=viewer).status_code == 200
    roles = {m["user_id"]: m["role"] for m in client.get(members, headers=owner).json()}
    assert roles == {ids["owner"]: "owner", ids["admin"]: "admin"}


def test_invitation_token_is_bound_to_the_invited_email(client, world) -> None:
    invited = client.post(
        f"{API}/organizations/{world['org_a']}/invitations",
        json={"email": "someone@example.com", "role": "admin"},
        headers=world["owner"]["org_headers"],
    ).json()
    outsider = world["b_owner"]
    response = client.post(
        f"{API}/organizations/invitations/accept",
        json={"token": invited["token"]},
        headers=outsider["headers"],
    )
    assert response.status_code == 403  # a valid token, but for another email
