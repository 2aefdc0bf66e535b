"""Login, token issue, refresh rotation, logout and email verification (the auth routes' core)."""

from __future__ import annotations

import hashlib
import logging
import smtplib
import time
import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from fastapi import BackgroundTasks
from sqlalchemy.orm import Session

from accunode_cli.errors import AuthError, ConflictError, RateLimitedError
from accunode_cli.server.deps import Principal
from accunode_cli.server.presenters import user_body
from accunode_cli.server.security import (
    create_access_token,
    create_purpose_token,
    decode_purpose_token,
    hash_password,
    verify_password,
)
from accunode_cli.server.state import AppState
from accunode_cli.storage import tokens, users
from accunode_cli.storage.db import new_id, utcnow
from accunode_cli.storage.models import User

__all__ = [
    "register",
    "send_account_exists",
    "authenticate",
    "issue_tokens",
    "refresh_tokens",
    "logout",
    "send_verification",
    "send_mail",
    "replay_revocations",
    "send_password_reset",
    "limit_password_reset",
    "confirm_password_reset",
]

log = logging.getLogger("accunode.auth")
_LOGIN_WINDOW = 15 * 60
_BAD_LOGIN = "the email or password is wrong"


def _reserve_login(state: AppState, email: str, ip: str) -> list[str]:
    """Count this attempt on every login limit *before* the password is checked.

    The count is one atomic increment per limit, so of many guesses sent at once only as
    many as the limit allow reach the password check. The strict limit is per account and
    client address; a guesser elsewhere cannot lock the owner out with it. The account's
    own ceiling (from any address) is per minute: under a distributed attack it slows
    everyone's attempts on that account for the rest of the minute rather than locking the
    account for long. Returns the counters to release when the login succeeds.
    """
    settings = state.settings
    account = users.normalise_email(email)
    limits = (
        (f"login:account-address:{account}:{ip}", _LOGIN_WINDOW,
         settings.login_attempts_per_15_minutes),
        (f"login:address:{ip}", _LOGIN_WINDOW, settings.login_attempts_per_address_15_minutes),
        (f"login:account:{account}", 60, settings.login_account_attempts_per_minute),
    )  # fmt: skip
    for key, window, limit in limits:
        count, reset = state.store.incr_window(key, window)
        if count > limit:
            raise RateLimitedError(
                "too many failed logins; try again later", details={"retry_after": reset}
            )
    return [key for key, _, _ in limits]


def register(
    state: AppState,
    session: Session,
    background: BackgroundTasks,
    *,
    email: str,
    password: str,
    full_name: str,
    ip: str,
) -> dict[str, Any]:
    """Create an account; for an email that has one, answer alike and notify its owner.

    Both paths pay for one bcrypt hash and return the same shape. Each client address may
    register ``registrations_per_hour`` times (counted before any work).
    """
    count, reset = state.store.incr_window(f"register:address:{ip}", 3600)
    if count > state.settings.registrations_per_hour:
        raise RateLimitedError(
            "too many registrations from this address; try again later",
            details={"retry_after": reset},
        )
    password_hash = hash_password(password, rounds=state.settings.bcrypt_rounds)
    existing = users.find_user_by_email(session, email)
    if existing is None:
        try:
            user = users.create_user(
                session, email=email, password_hash=password_hash, full_name=full_name
            )
        except ConflictError:  # registered a moment ago by a concurrent request
            existing = users.find_user_by_email(session, email)
        else:
            background.add_task(send_verification, state, user)
            return user_body(user)
    if existing is not None:
        background.add_task(send_account_exists, state, existing)
    return {  # looks like a new, unverified account; its id is never usable
        "id": str(new_id()),
        "email": email.strip(),
        "full_name": full_name,
        "email_verified": False,
        "created_at": utcnow().isoformat(),
    }


def send_account_exists(state: AppState, user: User) -> None:
    """Tell an account's owner that someone tried to register their email again."""
    text = (
        "Someone tried to create an AccuNode account with this email address, which already "
        "has one. If it was you, log in, or reset your password. Otherwise ignore this email."
    )
    if not state.settings.smtp_host:
        log.info(
            "registration of an existing email (SMTP not configured)",
            extra={"email_to": user.email, "purpose": "account-exists"},
        )
        return
    send_mail(state, to=user.email, subject="Your AccuNode account", text=text)


def authenticate(state: AppState, session: Session, *, email: str, password: str, ip: str) -> User:
    """Return the user for these credentials; unknown email and wrong password look the same."""
    reserved = _reserve_login(state, email, ip)
    user = users.find_user_by_email(session, email)
    # An unknown email still pays for one bcrypt check, so timing does not reveal accounts.
    ok = verify_password(password, user.password_hash if user else state.dummy_password_hash)
    if user is None or not ok or not user.is_active:
        raise AuthError(_BAD_LOGIN)  # the reservations stay: they were failed attempts
    for key in reserved:
        state.store.release(key)
    if state.settings.require_email_verification and user.email_verified_at is None:
        raise AuthError("verify your email before logging in")
    return user


def issue_tokens(
    state: AppState, session: Session, *, user_id: uuid.UUID, family_id: uuid.UUID | None = None
) -> dict[str, object]:
    """Return a new access and refresh token pair (a new login session unless a family is given)."""
    settings = state.settings
    refresh = tokens.issue_refresh_token(
        session, user_id=user_id, days=settings.refresh_token_days, family_id=family_id
    )
    return _pair(state, user_id, refresh)


def _pair(
    state: AppState, user_id: uuid.UUID, refresh: tokens.IssuedRefreshToken
) -> dict[str, object]:
    settings = state.settings
    access, lifetime = create_access_token(
        user_id=user_id,
        session_id=refresh.family_id,
        secret=state.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        minutes=settings.access_token_minutes,
    )
    return {
        "access_token": access,
        "refresh_token": refresh.token,
        "token_type": "bearer",
        "expires_in": lifetime,
    }


def _revoke(state: AppState, session: Session, keys: dict[str, int]) -> None:
    """Revoke tokens (key: seconds they stay revoked) in the store and, durably, the database.

    The database copy is what reaches the other processes when Redis was down at this moment
    (``replay_revocations``).
    """
    for key, seconds in keys.items():
        state.store.set_flag(f"revoked:{key}", seconds)
    longest = max(keys.values(), default=0)
    tokens.record_revocations(
        session, keys=list(keys), expires_at=utcnow() + timedelta(seconds=longest)
    )


def _revoke_session(state: AppState, session: Session, family_id: uuid.UUID) -> None:
    _revoke(state, session, {f"sid:{family_id}": int(state.settings.access_token_minutes * 60) + 1})


def replay_revocations(state: AppState) -> int:
    """Copy every live revocation from the database to the store; return how many."""
    with state.sessions() as session, session.begin():
        live = tokens.live_revocations(session)
    now = utcnow()
    for key, expires_at in live:
        state.store.set_flag(f"revoked:{key}", max(1, int((expires_at - now).total_seconds())))
    if live:
        log.info("revocations replayed to the store", extra={"operation": "replay"})
    return len(live)


def refresh_tokens(
    state: AppState, session: Session, *, refresh_token: str
) -> dict[str, object] | None:
    """Spend a refresh token for a new pair.

    Reusing a spent one ends its whole login session and returns None: the caller answers 401
    but lets the transaction commit, so the revocation is kept.
    """
    issued, reused_family = tokens.rotate_refresh_token(
        session, token=refresh_token, days=state.settings.refresh_token_days
    )
    if issued is None:
        if reused_family is not None:
            _revoke_session(state, session, reused_family)
            log.warning("refresh token reused; session revoked")
        return None
    try:
        users.get_user(session, issued.user_id)
    except Exception as exc:
        raise AuthError("the refresh token is invalid or expired") from exc
    return _pair(state, issued.user_id, issued)


def logout(state: AppState, session: Session, *, principal: Principal, refresh_token: str) -> None:
    """Revoke the refresh token's session and the access token used for this call."""
    claims = principal.claims
    revoked = {f"jti:{claims.jti}": max(1, claims.expires_at - int(time.time()))}
    family = tokens.revoke_refresh_token(session, token=refresh_token, user_id=principal.user.id)
    if family is not None:
        revoked[f"sid:{family}"] = int(state.settings.access_token_minutes * 60) + 1
    _revoke(state, session, revoked)


def send_mail(state: AppState, *, to: str, subject: str, text: str) -> None:
    """Send an email through the configured SMTP server (failures are logged, never raised)."""
    settings = state.settings
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(text)
    try:
        with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_user:
                smtp.starttls()
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("email not sent", extra={"error_type": type(exc).__name__, "email_to": to})


def send_verification(state: AppState, user: User) -> None:
    """Mail a verify-email token, or write it to the server log when SMTP is not configured."""
    settings = state.settings
    token = create_purpose_token(
        subject=str(user.id),
        purpose="verify-email",
        secret=state.jwt_secret,
        issuer=settings.jwt_issuer,
        hours=48,
        extra={"email": user.email},
    )
    if not settings.smtp_host:
        log.info(
            "email verification token (SMTP not configured)",
            extra={"email_to": user.email, "purpose": "verify-email", "verification_token": token},
        )
        return
    text = (
        "Confirm your AccuNode email address with this token:\n\n"
        f'{token}\n\nPOST it to {settings.api_url}/api/v1/auth/verify-email as {{"token": ...}}.'
    )
    send_mail(state, to=user.email, subject="Verify your AccuNode email", text=text)


_RESET_MINUTES = 30
_BAD_RESET = "the password-reset token is invalid, used or expired"


def _password_fingerprint(user: User) -> str:
    """A digest of the current hash: a reset token dies when the password changes (one use)."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def limit_password_reset(state: AppState, *, email: str, ip: str) -> None:
    """Refuse (429) more than a few reset mails per account, or per address, an hour."""
    account = users.normalise_email(email)
    for key, limit in ((f"reset:account:{account}", 3), (f"reset:address:{ip}", 10)):
        count, reset = state.store.incr_window(key, 3600)
        if count > limit:
            raise RateLimitedError(
                "too many password-reset requests; try again later",
                details={"retry_after": reset},
            )


def send_password_reset(state: AppState, email: str) -> None:
    """Mail a short-lived reset token to the account of ``email``, if there is one."""
    settings = state.settings
    with state.sessions() as session:
        user = users.find_user_by_email(session, email)
    if user is None or not user.is_active:
        return
    token = create_purpose_token(
        subject=str(user.id),
        purpose="password-reset",
        secret=state.jwt_secret,
        issuer=settings.jwt_issuer,
        hours=1,
        extra={"pwd": _password_fingerprint(user)},
        minutes=_RESET_MINUTES,
    )
    if not settings.smtp_host:
        log.info(
            "password reset token (SMTP not configured)",
            extra={"email_to": user.email, "purpose": "password-reset", "reset_token": token},
        )
        return
    text = (
        f"Reset your AccuNode password within {_RESET_MINUTES} minutes with this token:\n\n"
        f"{token}\n\nPOST it to {settings.api_url}/api/v1/auth/password-reset/confirm as "
        '{"token": ..., "new_password": ...}. If you did not ask for it, ignore this email.'
    )
    send_mail(state, to=user.email, subject="Reset your AccuNode password", text=text)


def confirm_password_reset(
    state: AppState, session: Session, *, token: str, new_password: str
) -> None:
    """Set a new password with a reset token (once) and end every session of the account."""
    settings = state.settings
    try:
        claims = decode_purpose_token(
            token, purpose="password-reset", secret=state.jwt_secret, issuer=settings.jwt_issuer
        )
        user_id = uuid.UUID(str(claims["sub"]))
    except (AuthError, KeyError, ValueError) as exc:
        raise AuthError(_BAD_RESET) from exc
    new_hash = hash_password(new_password, rounds=settings.bcrypt_rounds)
    user = users.lock_user(session, user_id)  # of two uses of one token, the second fails
    if user is None or not user.is_active or claims.get("pwd") != _password_fingerprint(user):
        raise AuthError(_BAD_RESET)
    users.set_password_hash(session, user, new_hash)
    tokens.revoke_user_tokens(session, user_id=user.id)
