"""API keys: made by a login, scoped to one organization and a role, revoked at once, hashed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from api_helpers import API, annual_body, auth_headers, register
from sqlalchemy import select, update
from test_api_isolation import _join, _shared_org

from accunode_cli.storage.api_keys import check_api_key, hash_api_key, new_api_key
from accunode_cli.storage.db import utcnow
from accunode_cli.storage.models import ApiKey


def _key(client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    made = client.post(f"{API}/api-keys", json={"name": "ci", **body}, headers=headers)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _bearer(key: str, org: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if org:
        headers["X-Organization-ID"] = org
    return headers


@pytest.fixture
def team(client) -> dict[str, Any]:
    owner = register(client)
    org = _shared_org(client, owner, "Team")
    owner["org_headers"] = auth_headers(owner["tokens"], org)
    members = {role: _join(client, owner, org, role) for role in ("admin", "analyst", "viewer")}
    return {"org": org, "owner": owner, **members}


def test_key_format_checksum_and_hash() -> None:
    key = new_api_key()
    assert key.startswith("acn_") and len(key) == 46
    check_api_key(key)
    flipped = key[:10] + ("A" if key[10] != "A" else "B") + key[11:]
    from accunode_cli.errors import AuthError

    with pytest.raises(AuthError, match="malformed"):
        check_api_key(flipped)
    assert hash_api_key(key) != hash_api_key(flipped) and len(hash_api_key(key)) == 64


def test_key_works_on_data_routes_with_its_role_and_is_stored_hashed(client, team) -> None:
    made = _key(client, team["analyst"]["org_headers"])
    key = made["key"]
    assert made["role"] == "analyst" and made["prefix"] == key[:12] and made["last_used_at"] is None
    assert made["organization_id"] == team["org"]
    created = client.post(
        f"{API}/companies", json={"symbol": "K1", "name": "Key Co"}, headers=_bearer(key)
    )
    assert created.status_code == 201, created.text
    scored = client.post(f"{API}/predictions/annual", json=annual_body(), headers=_bearer(key))
    assert scored.status_code == 201
    listed = client.get(f"{API}/companies", headers=_bearer(key, team["org"])).json()
    assert {c["symbol"] for c in listed["items"]} == {"K1", "ACME"}
    keys = client.get(f"{API}/api-keys", headers=team["analyst"]["org_headers"]).json()
    assert [k["id"] for k in keys] == [made["id"]]
    assert "key" not in keys[0] and keys[0]["last_used_at"] is not None
    state = client.app.state.accunode
    with state.sessions() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.id == uuid.UUID(made["id"])))
        assert row is not None and row.key_hash == hash_api_key(key) and key not in row.key_hash
    current = client.get(f"{API}/api-key", headers=_bearer(key)).json()
    assert current["email"] == team["analyst"]["email"] and current["effective_role"] == "analyst"
    assert current["organization_name"] == "Team"


def test_last_use_is_written_at_most_once_a_minute(client, team) -> None:
    made = _key(client, team["analyst"]["org_headers"])
    state = client.app.state.accunode

    def last_used() -> Any:
        with state.sessions() as session:
            return session.scalar(
                select(ApiKey.last_used_at).where(ApiKey.id == uuid.UUID(made["id"]))
            )

    client.get(f"{API}/companies", headers=_bearer(made["key"]))
    first = last_used()
    client.get(f"{API}/companies", headers=_bearer(made["key"]))
    assert first is not None and last_used() == first
    with state.sessions() as session, session.begin():
        old = utcnow() - timedelta(minutes=2)
        session.execute(
            update(ApiKey).where(ApiKey.id == uuid.UUID(made["id"])).values(last_used_at=old)
        )
    client.get(f"{API}/companies", headers=_bearer(made["key"]))
    assert last_used() > first


def test_viewer_key_cannot_write_and_roles_are_capped(client, team) -> None:
    viewer = team["viewer"]["org_headers"]
    above = client.post(f"{API}/api-keys", json={"name": "x", "role": "analyst"}, headers=viewer)
    assert above.status_code == 403 and above.json()["error"]["code"] == "forbidden"
    key = _key(client, viewer)["key"]
    assert client.get(f"{API}/companies", headers=_bearer(key)).status_code == 200
    for method, path, body in [
        ("POST", "/companies", {"symbol": "V", "name": "V"}),
        ("POST", "/predictions/annual", annual_body()),
    ]:
        answer = client.request(method, f"{API}{path}", json=body, headers=_bearer(key))
        assert answer.status_code == 403, (path, answer.text)
    viewer_key = _key(client, team["owner"]["org_headers"], role="viewer")["key"]
    denied = client.post(
        f"{API}/companies", json={"symbol": "W", "name": "W"}, headers=_bearer(viewer_key)
    )
    assert denied.status_code == 403


def test_keys_cannot_manage_keys_passwords_or_members(client, team) -> None:
    key = _key(client, team["owner"]["org_headers"], role="admin")["key"]
    org, analyst_id = team["org"], team["analyst"]["user"]["id"]
    for method, path, body in [
        ("POST", "/api-keys", {"name": "more"}),
        ("GET", "/api-keys", None),
        ("POST", "/auth/change-password", {"current_password": "x" * 12, "new_password": "y" * 12}),
        ("DELETE", f"/organizations/{org}/members/{analyst_id}", None),
        ("POST", f"/organizations/{org}/invitations", {"email": "a@example.com", "role": "viewer"}),
        ("GET", "/users/profile", None),
    ]:
        answer = client.request(method, f"{API}{path}", json=body, headers=_bearer(key))
        assert answer.status_code == 403, (path, answer.text)
        assert "API keys cannot be used here" in answer.json()["error"]["message"]


def test_bad_unknown_revoked_and_expired_keys_answer_401(client, team) -> None:
    headers = team["analyst"]["org_headers"]
    made = _key(client, headers)
    for bad in [
        "acn_short",
        made["key"][:-1] + ("x" if made["key"][-1] != "x" else "y"),
        new_api_key(),
    ]:
        answer = client.get(f"{API}/companies", headers=_bearer(bad))
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"
    assert client.delete(f"{API}/api-keys/{made['id']}", headers=headers).status_code == 200
    answer = client.get(f"{API}/companies", headers=_bearer(made["key"]))
    assert answer.status_code == 401 and "revoked" in answer.json()["error"]["message"]
    listed = client.get(f"{API}/api-keys?include_revoked=true", headers=headers).json()
    assert listed[0]["revoked_at"] is not None
    assert client.get(f"{API}/api-keys", headers=headers).json() == []
    other = _key(client, headers)
    state = client.app.state.accunode
    with state.sessions() as session, session.begin():
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == uuid.UUID(other["id"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    answer = client.get(f"{API}/companies", headers=_bearer(other["key"]))
    assert answer.status_code == 401 and "expired" in answer.json()["error"]["message"]


def test_admins_see_and_revoke_all_keys_others_their_own(client, team) -> None:
    analyst_key = _key(client, team["analyst"]["org_headers"])
    viewer_key = _key(client, team["viewer"]["org_headers"])
    admin_list = client.get(f"{API}/api-keys", headers=team["admin"]["org_headers"]).json()
    assert {k["id"] for k in admin_list} == {analyst_key["id"], viewer_key["id"]}
    theirs = client.delete(
        f"{API}/api-keys/{analyst_key['id']}", headers=team["viewer"]["org_headers"]
    )
    assert theirs.status_code == 404
    revoked = client.delete(
        f"{API}/api-keys/{analyst_key['id']}", headers=team["admin"]["org_headers"]
    )
    assert revoked.status_code == 200
    assert client.get(f"{API}/companies", headers=_bearer(analyst_key["key"])).status_code == 401


def test_a_removed_member_keys_stop_working_and_other_orgs_are_404(client, team) -> None:
    made = _key(client, team["analyst"]["org_headers"])
    outsider = register(client)
    foreign = client.post(
        f"{API}/companies", json={"symbol": "B", "name": "B"}, headers=outsider["headers"]
    ).json()
    key = _bearer(made["key"])
    assert client.get(f"{API}/companies/{foreign['id']}", headers=key).status_code == 404
    wrong_org = client.get(f"{API}/companies", headers=_bearer(made["key"], outsider["org_id"]))
    assert wrong_org.status_code == 404
    other_keys = client.delete(f"{API}/api-keys/{made['id']}", headers=outsider["headers"])
    assert other_keys.status_code == 404
    removed = client.delete(
        f"{API}/organizations/{team['org']}/members/{team['analyst']['user']['id']}",
        headers=team["owner"]["org_headers"],
    )
    assert removed.status_code == 200
    answer = client.get(f"{API}/companies", headers=key)
    assert answer.status_code == 401 and "no longer a member" in answer.json()["error"]["message"]
