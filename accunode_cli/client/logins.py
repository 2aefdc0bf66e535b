"""Saved logins: one per server, in ``logins.json`` (mode 0600) inside the config folder (0700).

The file holds tokens or an API key, never a password. Every change is a read-modify-write
under an exclusive file lock (``logins.lock``) and lands through a temporary file renamed over
the old one, so a reader never sees half a file and two processes never lose each other's
change. The same lock serialises token refreshes (see ``client.session``).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from accunode_cli.errors import AccuNodeError, ConfigError

__all__ = ["SavedLogin", "LoginStore", "LOGINS_FILE", "LOCK_SECONDS"]

LOGINS_FILE = "logins.json"
_LOCK_FILE = "logins.lock"
LOCK_SECONDS = 30.0  # the longest wait for another process's refresh


@dataclass
class SavedLogin:
    """A login on one server: tokens of a password login, or an API key (``kind``)."""

    api_url: str
    kind: str  # "password" (access + refresh token) or "api_key"
    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # epoch seconds of the access token's expiry
    email: str | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SavedLogin:
        """Build from the stored JSON object (unknown fields are ignored)."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


class LoginStore:
    """The saved logins of one config folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOGINS_FILE

    def _document(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": 1, "default": None, "logins": {}}
        except OSError as exc:
            raise ConfigError(f"cannot read the saved logins {self.path}: {exc}") from exc
        try:
            document = json.loads(text)
            if not isinstance(document.get("logins"), dict):
                raise ValueError("no logins")
        except (ValueError, AttributeError) as exc:
            raise ConfigError(
                f"the saved logins file {self.path} is damaged; delete it and run accunode login"
            ) from exc
        return dict(document)

    def default_url(self) -> str | None:
        """Return the server of the last login, if any."""
        value = self._document().get("default")
        return value if isinstance(value, str) else None

    def get(self, api_url: str) -> SavedLogin | None:
        """Return the saved login of a server, or None."""
        data = self._document()["logins"].get(api_url)
        return SavedLogin.from_dict(data) if isinstance(data, dict) else None

    def save(self, login: SavedLogin, *, make_default: bool = True) -> None:
        """Store a login (the caller holds :meth:`lock` when it read before deciding)."""
        document = self._document()
        document["logins"][login.api_url] = asdict(login)
        if make_default:
            document["default"] = login.api_url
        self._write(document)

    def forget(self, api_url: str) -> bool:
        """Remove a server's login; return whether there was one."""
        document = self._document()
        found = document["logins"].pop(api_url, None) is not None
        if document.get("default") == api_url:
            document["default"] = next(iter(document["logins"]), None)
        if found:
            self._write(document)
        return found

    def _ensure_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.folder, 0o700)

    def _write(self, document: dict[str, Any]) -> None:
        self._ensure_folder()
        temporary = self.path.with_name(f".{LOGINS_FILE}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    @contextlib.contextmanager
    def lock(self, timeout: float = LOCK_SECONDS) -> Iterator[None]:
        """Hold the folder's exclusive lock (bounded wait) for a read-modify-write."""
        import fcntl

        self._ensure_folder()
        descriptor = os.open(self.folder / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise AccuNodeError(
                            f"another accunode process holds {self.folder / _LOCK_FILE} for "
                            f"over {timeout:.0f} s; try again"
                        ) from None
                    time.sleep(0.02)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock
