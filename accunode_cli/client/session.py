"""Which server, which credential, which organization, and the transparent token refresh.

Resolution, as gh and aws do it: a flag wins over the environment, the environment over the
saved login. ``ACCUNODE_TOKEN`` (an API key or an access token) replaces the saved login
entirely, and a run that uses it writes nothing to disk.

An access token about to expire (or refused with 401) is refreshed under the config folder's
file lock: a process that waited for the lock first re-reads the saved login and uses the
token another process has just obtained, so concurrent commands on one login spend the refresh
token once and never trip the server's reuse detection.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from accunode_cli.client.http import Transport, normalise_url
from accunode_cli.client.logins import LoginStore, SavedLogin
from accunode_cli.errors import LoginRequiredError, UsageError

__all__ = ["RemoteSession", "DEFAULT_API_URL", "config_folder", "REFRESH_MARGIN_SECONDS"]

DEFAULT_API_URL = "http://127.0.0.1:8000"
REFRESH_MARGIN_SECONDS = 2.0  # refresh a token this close to its expiry before using it


def config_folder() -> Path:
    """Return the folder of the saved logins (``ACCUNODE_CONFIG_DIR``, else XDG config)."""
    from accunode_cli.config import default_config_dir

    return default_config_dir()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class RemoteSession:
    """A server, a credential and an organization for one command."""

    def __init__(
        self,
        *,
        api_url: str | None = None,
        org: str | None = None,
        store: LoginStore | None = None,
    ) -> None:
        self.store = store or LoginStore(config_folder())
        self.env_token = os.environ.get("ACCUNODE_TOKEN") or None
        chosen = api_url or os.environ.get("ACCUNODE_API_URL") or None
        if chosen is None and self.env_token is None:
            chosen = self.store.default_url()
        self.api_url = normalise_url(chosen or DEFAULT_API_URL)
        self.transport = Transport(self.api_url)
        self.saved = None if self.env_token else self.store.get(self.api_url)
        self.org_choice = org or os.environ.get("ACCUNODE_ORG") or None
        self._org_id: str | None = None

    def close(self) -> None:
        """Release the connections."""
        self.transport.close()

    def __enter__(self) -> RemoteSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- credential -----------------------------------------------------------------------
    @property
    def credential_kind(self) -> str:
        """Say what authenticates: 'api_key', 'access_token' or 'password' (a saved login)."""
        token = self.env_token or (self.saved.access_token if self.saved else "")
        if token.startswith("acn_"):
            return "api_key"
        return "access_token" if self.env_token else "password"

    def _need_login(self) -> LoginRequiredError:
        return LoginRequiredError(
            f"not logged in to {self.api_url}; run accunode login --api-url {self.api_url} "
            "(or set ACCUNODE_TOKEN)",
            details={"api_url": self.api_url},
        )

    def _token(self) -> str:
        if self.env_token:
            return self.env_token
        if self.saved is None:
            raise self._need_login()
        expires = self.saved.expires_at
        if self.saved.refresh_token and expires and expires - time.time() < REFRESH_MARGIN_SECONDS:
            return self._refresh(self.saved.access_token)
        return self.saved.access_token

    def _refresh(self, stale: str) -> str:
        """Return a fresh access token, refreshing at most once across processes."""
        with self.store.lock():
            current = self.store.get(self.api_url)
            if current is None or not current.refresh_token:
                raise LoginRequiredError(
                    f"you were logged out of {self.api_url}; run accunode login"
                )
            fresh = (current.expires_at or 0) - time.time() >= REFRESH_MARGIN_SECONDS
            if current.access_token != stale and fresh:
                self.saved = current  # another process refreshed while we waited
                return current.access_token
            try:
                pair = self.transport.request(
                    "POST", "/auth/refresh-token", json={"refresh_token": current.refresh_token}
                ).json()
            except LoginRequiredError as exc:
                raise LoginRequiredError(
                    f"your login to {self.api_url} has expired or was revoked; run accunode login",
                    details=exc.details,
                ) from exc
            current.access_token = pair["access_token"]
            current.refresh_token = pair["refresh_token"]
            current.expires_at = time.time() + float(pair["expires_in"])
            self.store.save(current, make_default=False)
            self.saved = current
            return current.access_token

    # -- organization ---------------------------------------------------------------------
    def organization_id(self) -> str | None:
        """Return the organization id to send (None: the credential's own default)."""
        if self._org_id is not None:
            return self._org_id
        choice = self.org_choice or (self.saved.organization_id if self.saved else None)
        if choice is None or _is_uuid(choice):
            self._org_id = choice
            return choice
        if self.credential_kind == "api_key":
            raise UsageError("with an API key, --org / ACCUNODE_ORG must be an organization id")
        matches = [
            org for org in self.get("/users/organizations", with_org=False) if org["name"] == choice
        ]
        if len(matches) != 1:
            raise UsageError(
                f"no single organization named {choice!r}; see accunode org list",
                details={"organization": choice, "matches": len(matches)},
            )
        self._org_id = str(matches[0]["id"])
        return self._org_id

    # -- requests -------------------------------------------------------------------------
    def _headers(self, token: str, with_org: bool) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        org = self.organization_id() if with_org else None
        if org:
            headers["X-Organization-ID"] = org
        return headers

    def auth_headers(self) -> dict[str, str]:
        """Return the headers of an authenticated request (a fresh token, the organization)."""
        return self._headers(self._token(), True)

    def request(self, method: str, path: str, *, with_org: bool = True, **kwargs: Any) -> Any:
        """Send an authenticated request; refresh and retry once when the token was refused."""
        token = self._token()
        headers = {**self._headers(token, with_org), **kwargs.pop("headers", {})}
        try:
            return self.transport.request(method, path, headers=headers, **kwargs)
        except LoginRequiredError:
            if self.env_token or self.saved is None or not self.saved.refresh_token:
                raise
        token = self._refresh(token)
        headers["Authorization"] = f"Bearer {token}"
        return self.transport.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, *, with_org: bool = True, **kwargs: Any) -> Any:
        """GET a JSON document."""
        response: httpx.Response = self.request("GET", path, with_org=with_org, **kwargs)
        return response.json()

    def send(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and return its JSON answer."""
        response: httpx.Response = self.request(method, path, **kwargs)
        return response.json()

    def save_login(self, login: SavedLogin) -> None:
        """Store a new login for this server and make it the default one."""
        if self.env_token:
            return  # a run with ACCUNODE_TOKEN writes nothing
        with self.store.lock():
            self.store.save(login)
        self.saved = login
