"""Accounts: emails kept as given but compared on a folded key; invitations listed, revoked
and refused (403) to another email."""

from __future__ import annotations

from api_helpers import API, PASSWORD, TestClient, login, register


def test_an_email_is_kept_as_given_and_compared_on_its_key(client: TestClient) -> None:
    account = register(client, email="Straße.Kelvin@example.com")
    assert account["user"]["email"] == "Straße.Kelvin@example.com"  # never "strasse.kelvin"
    profile = client.get(f"{API}/users/profile", headers=account["headers"]).json()
    assert profile["email"] == "Straße.Kelvin@example.com"
    for spelling in ("STRASSE.KELVIN@example.com", "straße.kelvin@EXAMPLE.com"):
        assert login(client, spelling)["access_token"]


def _org_and_invite(client: TestClient, owner: dict, email: str, role: str = "analyst") -> tuple:
    org_id = client.post(
        f"{API}/organizations", json={"name": "Inviting"}, headers=owner["headers"]
    ).json()["id"]
    invited = client.post(
        f"{API}/organizations/{org_id}/invitations",
        json={"email": email, "role": role},
        headers=owner["headers"],
    )
    assert invited.status_code == 201, invited.text
    return org_id, invited.json()


def test_invitations_are_listed_and_revoked_by_managers(client: TestClient) -> None:
    owner, guest, stranger = register(client), register(client), register(client)
    org_id, invitation = _org_and_invite(client, owner, "Guest.Person@example.com")
    listed = client.get(f"{API}/organizations/{org_id}/invitations", headers=owner["headers"])
    assert listed.status_code == 200
    assert [(i["id"], i["email"]) for i in listed.json()] == [
        (invitation["id"], "Guest.Person@example.com")
    ]
    assert "token" not in listed.json()[0]
    invitations = f"{API}/organizations/{org_id}/invitations"
    # not a member: the organization does not exist for them
    assert client.get(invitations, headers=stranger["headers"]).status_code == 404
    revoked = client.delete(
        f"{API}/organizations/{org_id}/invitations/{invitation['id']}", headers=owner["headers"]
    )
    assert revoked.status_code == 200
    assert client.get(invitations, headers=owner["headers"]).json() == []
    again = client.delete(
        f"{API}/organizations/{org_id}/invitations/{invitation['id']}", headers=owner["headers"]
    )
    assert again.status_code == 404
    accept = client.post(
        f"{API}/organizations/invitations/accept",
        json={"token": invitation["token"]},
        headers=guest["headers"],
    )
    assert accept.status_code == 401  # a revoked token works no more


def test_accepting_an_invitation_for_another_email_answers_403(client: TestClient) -> None:
    owner = register(client)
    invitee = register(client, email="Invitee@example.com")
    other = register(client)
    _, invitation = _org_and_invite(client, owner, "invitee@EXAMPLE.com")
    wrong = client.post(
        f"{API}/organizations/invitations/accept",
        json={"token": invitation["token"]},
        headers=other["headers"],
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
    right = client.post(
        f"{API}/organizations/invitations/accept",
        json={"token": invitation["token"]},
        headers=invitee["headers"],
    )
    assert right.status_code == 200, right.text
    assert login(client, "INVITEE@example.com", PASSWORD)


def _reset_token(caplog, email: str) -> str | None:
    for record in caplog.records:
        wanted = getattr(record, "purpose", None) == "password-reset"
        if wanted and getattr(record, "email_to", None) == email:
            return str(record.reset_token)  # type: ignore[attr-defined]
    return None


def test_password_reset_ends_every_session_and_works_once(client: TestClient, caplog) -> None:
    caplog.set_level("INFO", logger="accunode.auth")
    account = register(client)
    other_session = login(client, account["email"])
    for email in (account["email"], "nobody-here@example.com"):
        asked = client.post(f"{API}/auth/password-reset/request", json={"email": email})
        assert asked.status_code == 202  # the same answer whether or not the account exists
    assert _reset_token(caplog, "nobody-here@example.com") is None
    token = _reset_token(caplog, account["email"])
    assert token
    confirm = {"token": token, "new_password": "a brand new passphrase"}
    done = client.post(f"{API}/auth/password-reset/confirm", json=confirm)
    assert done.status_code == 200, done.text
    for pair in (account["tokens"], other_session):
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        assert client.get(f"{API}/users/profile", headers=headers).status_code == 401
        refresh = {"refresh_token": pair["refresh_token"]}
        assert client.post(f"{API}/auth/refresh-token", json=refresh).status_code == 401
    assert login(client, account["email"], "a brand new passphrase")["access_token"]
    again = client.post(
        f"{API}/auth/password-reset/confirm", json={**confirm, "new_password": "third one here"}
    )
    assert again.status_code == 401  # single use
    forged = client.post(
        f"{API}/auth/password-reset/confirm", json={"token": "x.y.z", "new_password": "whatever1"}
    )
    assert forged.status_code == 401
