"""/auth: register, login, refresh-token, logout, verify-email, change-password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from accunode_cli.errors import AuthError
from accunode_cli.server import accounts
from accunode_cli.server.deps import (
    PrincipalDep,
    SessionDep,
    StateDep,
    limit_client,
    request_client_ip,
)
from accunode_cli.server.errors import envelope_response
from accunode_cli.server.schemas import (
    ERROR_RESPONSES,
    LoginRequest,
    Message,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    TokenPair,
    UserPublic,
    UserRegister,
    VerifyEmailRequest,
)
from accunode_cli.server.security import decode_purpose_token, hash_password, verify_password
from accunode_cli.storage import tokens, users

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERROR_RESPONSES)
ClientIp = Annotated[str, Depends(request_client_ip)]
LIMITED = [Depends(limit_client)]  # authenticated routes are counted by get_claims


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    dependencies=LIMITED,
)
def register(
    body: UserRegister,
    state: StateDep,
    session: SessionDep,
    background: BackgroundTasks,
    ip: ClientIp,
) -> Any:
    """Create an account and its personal organization (you are its owner).

    The answer is the same whether or not the email already has an account (the owner of
    an existing one is mailed a notice instead), so registration does not reveal accounts.
    """
    return accounts.register(
        state,
        session,
        background,
        email=str(body.email),
        password=body.password,
        full_name=body.full_name,
        ip=ip,
    )


@router.post("/login", response_model=TokenPair, dependencies=LIMITED)
def login(body: LoginRequest, state: StateDep, session: SessionDep, ip: ClientIp) -> Any:
    """Log in with email and password; returns an access token and a refresh token."""
    user = accounts.authenticate(
        state, session, email=str(body.email), password=body.password, ip=ip
    )
    return accounts.issue_tokens(state, session, user_id=user.id)


@router.post("/token", response_model=TokenPair, dependencies=LIMITED)
def login_form(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    state: StateDep,
    session: SessionDep,
    ip: ClientIp,
) -> Any:
    """Log in with the OAuth2 password form (used by the docs page's Authorize button)."""
    user = accounts.authenticate(state, session, email=form.username, password=form.password, ip=ip)
    return accounts.issue_tokens(state, session, user_id=user.id)


@router.post("/refresh-token", response_model=TokenPair, dependencies=LIMITED)
def refresh_token(body: RefreshRequest, state: StateDep, session: SessionDep) -> Any:
    """Trade a refresh token for a new pair; the old refresh token stops working."""
    pair = accounts.refresh_tokens(state, session, refresh_token=body.refresh_token)
    if pair is None:
        return envelope_response(
            401,
            AuthError.code,
            "the refresh token is invalid or expired",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return pair


@router.post("/logout", response_model=Message)
def logout(
    body: RefreshRequest, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> Any:
    """End the login session: the refresh token and this access token stop working at once."""
    accounts.logout(state, session, principal=principal, refresh_token=body.refresh_token)
    return {"message": "logged out"}


@router.post("/verify-email", response_model=Message, dependencies=LIMITED)
def verify_email(body: VerifyEmailRequest, state: StateDep, session: SessionDep) -> Any:
    """Confirm an email address with the token that was mailed (or logged) at registration."""
    settings = state.settings
    claims = decode_purpose_token(
        body.token, purpose="verify-email", secret=state.jwt_secret, issuer=settings.jwt_issuer
    )
    user = users.find_user_by_email(session, str(claims.get("email", "")))
    if user is None or str(user.id) != claims.get("sub"):
        raise AuthError("the verify-email token is invalid or expired")
    users.mark_email_verified(session, user)
    return {"message": "email verified"}


@router.post("/verify-email/request", response_model=Message)
def request_verification(
    principal: PrincipalDep, state: StateDep, background: BackgroundTasks
) -> Any:
    """Send a new verify-email token to your address."""
    background.add_task(accounts.send_verification, state, principal.user)
    return {"message": "verification sent"}


@router.post("/change-password", response_model=TokenPair)
def change_password(
    body: PasswordChange, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> Any:
    """Change your password; every other session ends and a new token pair is returned."""
    user = principal.user
    if not verify_password(body.current_password, user.password_hash):
        raise AuthError("the current password is wrong")
    users.set_password_hash(
        session, user, hash_password(body.new_password, rounds=state.settings.bcrypt_rounds)
    )
    tokens.revoke_user_tokens(session, user_id=user.id)
    return accounts.issue_tokens(state, session, user_id=user.id)


@router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Message,
    dependencies=LIMITED,
)
def request_password_reset(
    body: PasswordResetRequest, state: StateDep, background: BackgroundTasks, ip: ClientIp
) -> Any:
    """Mail a reset token (valid 30 minutes, once) if the email has an account; always 202."""
    accounts.limit_password_reset(state, email=str(body.email), ip=ip)
    background.add_task(accounts.send_password_reset, state, str(body.email))
    return {"message": "if the email has an account, a reset token is on its way"}


@router.post("/password-reset/confirm", response_model=Message, dependencies=LIMITED)
def confirm_password_reset(body: PasswordResetConfirm, state: StateDep, session: SessionDep) -> Any:
    """Set a new password with the mailed token; every session of the account ends."""
    accounts.confirm_password_reset(
        state, session, token=body.token, new_password=body.new_password
    )
    return {"message": "password changed; log in with the new one"}
