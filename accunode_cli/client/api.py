"""The AccuNode API as plain functions over a :class:`RemoteSession` (one per resource action)."""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

from accunode_cli.client.http import Transport
from accunode_cli.client.logins import SavedLogin
from accunode_cli.client.session import RemoteSession
from accunode_cli.errors import LoginRequiredError, NotFoundError, UsageError

__all__ = [
    "login_with_password",
    "login_with_token",
    "logout",
    "whoami",
    "list_organizations",
    "switch_organization",
    "list_companies",
    "find_company",
    "show_company",
    "create_company",
    "update_company",
    "delete_company",
    "list_predictions",
    "find_prediction",
    "delete_prediction",
    "create_prediction",
    "create_api_key",
    "list_api_keys",
    "revoke_api_key",
]

KINDS = ("annual", "quarterly")


def _personal_org(session: RemoteSession, token: str) -> dict[str, Any] | None:
    headers = {"Authorization": f"Bearer {token}"}
    orgs = session.transport.request("GET", "/users/organizations", headers=headers).json()
    return next((org for org in orgs if org.get("personal")), orgs[0] if orgs else None)


def login_with_password(session: RemoteSession, *, email: str, password: str) -> SavedLogin:
    """Log in, check the tokens work, and save the login (never the password)."""
    try:
        pair = session.transport.request(
            "POST", "/auth/login", json={"email": email, "password": password}
        ).json()
    except LoginRequiredError as exc:  # the server's own words, without "run accunode login"
        message = str(exc.details.get("server_message") or exc.message)
        raise LoginRequiredError(
            f"login to {session.api_url} refused: {message}", details=exc.details
        ) from exc
    org = _personal_org(session, pair["access_token"])
    login = SavedLogin(
        api_url=session.api_url,
        kind="password",
        access_token=pair["access_token"],
        refresh_token=pair["refresh_token"],
        expires_at=time.time() + float(pair["expires_in"]),
        email=email,
        organization_id=str(org["id"]) if org else None,
        organization_name=org["name"] if org else None,
    )
    session.save_login(login)
    return login


def login_with_token(session: RemoteSession, *, token: str) -> SavedLogin:
    """Check an API key against the server and save it as this server's login."""
    if not token.startswith("acn_"):
        raise UsageError("--with-token reads an API key (acn_...) from stdin")
    headers = {"Authorization": f"Bearer {token}"}
    key = session.transport.request("GET", "/api-key", headers=headers).json()
    login = SavedLogin(
        api_url=session.api_url,
        kind="api_key",
        access_token=token,
        email=key["email"],
        organization_id=str(key["organization_id"]),
    )
    session.save_login(login)
    return login


def logout(session: RemoteSession) -> bool:
    """End the saved login's session on the server and forget it here; False if none."""
    saved = session.store.get(session.api_url)
    if saved is None:
        return False
    if saved.kind == "password" and saved.refresh_token:
        # already dead on the server: forgetting it here is all that is left
        with contextlib.suppress(LoginRequiredError):
            session.send(
                "POST", "/auth/logout", json={"refresh_token": saved.refresh_token}, with_org=False
            )
    with session.store.lock():
        session.store.forget(session.api_url)
    return True


def whoami(session: RemoteSession) -> dict[str, Any]:
    """Return the server, user, organization, role and kind of credential."""
    kind = session.credential_kind
    if kind == "api_key":
        key = session.get("/api-key")
        return {
            "api_url": session.api_url,
            "email": key["email"],
            "organization_id": key["organization_id"],
            "organization_name": key.get("organization_name"),
            "role": key["effective_role"],
            "credential": "api_key",
            "api_key": {"id": key["id"], "name": key["name"], "prefix": key["prefix"]},
        }
    profile = session.get("/users/profile", with_org=False)
    orgs = session.get("/users/organizations", with_org=False)
    wanted = session.organization_id()
    org = next((o for o in orgs if str(o["id"]) == wanted), None) if wanted else None
    org = org or next((o for o in orgs if o.get("personal")), orgs[0] if orgs else None)
    return {
        "api_url": session.api_url,
        "email": profile["email"],
        "organization_id": org["id"] if org else None,
        "organization_name": org["name"] if org else None,
        "role": org["role"] if org else None,
        "credential": kind,
    }


def list_organizations(session: RemoteSession) -> list[dict[str, Any]]:
    """Return your organizations with your role in each."""
    if session.credential_kind == "api_key":
        me = whoami(session)
        return [{"id": me["organization_id"], "name": me["organization_name"], "role": me["role"]}]
    return list(session.get("/users/organizations", with_org=False))


def switch_organization(session: RemoteSession, choice: str) -> dict[str, Any]:
    """Make an organization (id or name) the saved login's default."""
    saved = session.store.get(session.api_url)
    if session.env_token or saved is None:
        raise UsageError("org switch changes the saved login; log in first (not ACCUNODE_TOKEN)")
    matches = [o for o in list_organizations(session) if choice in (str(o["id"]), o["name"])]
    if len(matches) != 1:
        raise NotFoundError(f"no organization {choice!r} of yours; see accunode org list")
    with session.store.lock():
        current = session.store.get(session.api_url) or saved
        current.organization_id = str(matches[0]["id"])
        current.organization_name = matches[0]["name"]
        session.store.save(current, make_default=False)
    return matches[0]


def list_companies(session: RemoteSession, **filters: Any) -> dict[str, Any]:
    """Return a page of companies."""
    params = {key: value for key, value in filters.items() if value is not None}
    return dict(session.get("/companies", params=params))


def find_company(session: RemoteSession, ref: str) -> dict[str, Any]:
    """Return the company with this id or symbol (case-insensitive)."""
    if _is_uuid(ref):
        return dict(session.get(f"/companies/{ref}"))
    page = session.get("/companies", params={"search": ref, "size": 100})
    for company in page["items"]:
        if company["symbol"].upper() == ref.strip().upper():
            return dict(session.get(f"/companies/{company['id']}"))
    raise NotFoundError(f"company {ref!r} not found", details={"company": ref})


def show_company(session: RemoteSession, ref: str) -> dict[str, Any]:
    """Return a company with its latest predictions."""
    return find_company(session, ref)


def create_company(session: RemoteSession, **fields: Any) -> dict[str, Any]:
    """Create a company."""
    body = {key: value for key, value in fields.items() if value is not None}
    return dict(session.send("POST", "/companies", json=body))


def update_company(session: RemoteSession, ref: str, **changes: Any) -> dict[str, Any]:
    """Change a company's fields."""
    company = find_company(session, ref)
    body = {key: value for key, value in changes.items() if value is not None}
    if not body:
        raise UsageError("nothing to change: give --symbol, --name, --sector or --market-cap")
    return dict(session.send("PUT", f"/companies/{company['id']}", json=body))


def delete_company(session: RemoteSession, ref: str) -> dict[str, Any]:
    """Delete a company and its predictions."""
    company = find_company(session, ref)
    session.send("DELETE", f"/companies/{company['id']}")
    return company


def list_predictions(session: RemoteSession, *, kind: str, **filters: Any) -> dict[str, Any]:
    """Return a page of predictions of one kind."""
    params = {key: value for key, value in filters.items() if value is not None}
    return dict(session.get(f"/predictions/{kind}", params=params))


def find_prediction(session: RemoteSession, prediction_id: str) -> tuple[str, dict[str, Any]]:
    """Return (kind, prediction) of an id, trying the annual then the quarterly predictions."""
    if not _is_uuid(prediction_id):
        raise UsageError(f"{prediction_id!r} is not a prediction id (a UUID)")
    for kind in KINDS:
        try:
            return kind, dict(session.get(f"/predictions/{kind}/{prediction_id}"))
        except NotFoundError:
            continue
    raise NotFoundError("prediction not found", details={"id": prediction_id})


def delete_prediction(session: RemoteSession, prediction_id: str) -> str:
    """Delete a prediction; return its kind."""
    kind, _ = find_prediction(session, prediction_id)
    session.send("DELETE", f"/predictions/{kind}/{prediction_id}")
    return kind


def create_prediction(session: RemoteSession, *, kind: str, body: dict[str, Any]) -> Any:
    """Score and store a prediction on the server."""
    return session.send("POST", f"/predictions/{kind}", json=body)


def create_api_key(session: RemoteSession, **fields: Any) -> dict[str, Any]:
    """Make an API key (the answer holds the key, once)."""
    return dict(session.send("POST", "/api-keys", json=fields))


def list_api_keys(session: RemoteSession, *, include_revoked: bool = False) -> list[Any]:
    """Return the organization's keys you may see."""
    params = {"include_revoked": "true"} if include_revoked else {}
    return list(session.get("/api-keys", params=params))


def revoke_api_key(session: RemoteSession, key_id: str) -> None:
    """Revoke a key."""
    if not _is_uuid(key_id):
        raise UsageError(f"{key_id!r} is not an API key id (see accunode api-key list)")
    session.send("DELETE", f"/api-keys/{key_id}")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def check_reachable(transport: Transport) -> None:
    """Raise the unreachable-server error unless the server answers its health check."""
    transport.request("GET", "/health")
