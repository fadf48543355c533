"""The account-care API: e-mail verification, password reset, change of e-mail and password, sign-out everywhere,
notices. Thin: the rules are in marketplace.accounts.lifecycle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from marketplace.accounts import lifecycle
from marketplace.accounts.dependencies import CurrentAccount, PasswordHashingDep
from marketplace.accounts.models import AccountPublic, Token
from marketplace.accounts.router import to_public
from marketplace.accounts.schemas import (
    Accepted,
    EmailChange,
    LinkToken,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
)
from marketplace.core.api_errors import errors
from marketplace.core.deps import RateLimiterDep, SessionDep, SettingsDep, client_address
from marketplace.core.exceptions import NotFound
from marketplace.core.limits import MAX_DB_ID, MAX_PAGE_SIZE
from marketplace.mail.models import NoticeList

router = APIRouter(prefix="/api", tags=["accounts"])
RESET_ANSWER = "If an account has this e-mail, a link to reset its password is on its way."


@router.post("/auth/verify-email", response_model=AccountPublic, responses=errors(400, 422, 503))
def verify_email(body: LinkToken, session: SessionDep) -> AccountPublic:
    """Take the link mailed at sign-up (its `token`): the account's e-mail is verified. 400: unknown, used or
    expired link."""
    return to_public(lifecycle.verify_email(session, token=body.token))


@router.post("/auth/password-reset", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted,
             responses=errors(408, 422, 429, 503))
async def password_reset(body: PasswordResetRequest, request: Request, settings: SettingsDep,
                         limiter: RateLimiterDep) -> Accepted:
    """Mail a single-use reset link (valid PASSWORD_RESET_MINUTES) when an account has this e-mail. The answer is
    the same whether or not it has one. Rate limited per e-mail and per client address (429)."""
    await lifecycle.request_password_reset(email=str(body.email), settings=settings,
                                           address=client_address(request), limiter=limiter)
    return Accepted(detail=RESET_ANSWER)


@router.post("/auth/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT,
             responses=errors(400, 408, 422, 503))
async def password_reset_confirm(body: PasswordResetConfirm, hashing: PasswordHashingDep) -> Response:
    """Set a new password with the mailed link's `token` (once; 400 when used, expired or unknown). Every session
    and token of the account is signed out."""
    await lifecycle.reset_password(token=body.token, password=body.password, hashing=hashing)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/confirm-email", response_model=AccountPublic, responses=errors(400, 409, 422, 503))
def confirm_email(body: LinkToken, session: SessionDep, settings: SettingsDep) -> AccountPublic:
    """Take the link mailed to a new address: it becomes the account's (verified) e-mail; the old address gets a
    notice. 400: unknown, used or expired link; 409: another account has the address now."""
    return to_public(lifecycle.confirm_email_change(session, token=body.token, settings=settings))


@router.post("/me/verification", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted,
             responses=errors(401, 429, 503))
async def resend_verification(account: CurrentAccount, request: Request, settings: SettingsDep,
                              limiter: RateLimiterDep) -> Accepted:
    """Mail a new verification link (none when the e-mail is verified already). Rate limited (429)."""
    sent = await lifecycle.resend_verification(account_id=account.id, settings=settings,
                                               address=client_address(request), limiter=limiter)
    return Accepted(detail="A new verification link is on its way." if sent else "The e-mail is verified already.")


@router.post("/me/email", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted,
             responses=errors(400, 401, 408, 409, 422, 429, 503))
async def change_email(body: EmailChange, account: CurrentAccount, request: Request, settings: SettingsDep,
                       limiter: RateLimiterDep, hashing: PasswordHashingDep) -> Accepted:
    """Ask to change the account's e-mail (needs the current password, 400 otherwise): a link goes to the new
    address, which becomes the account's when it is followed. 409: another account has it. Rate limited (429)."""
    await lifecycle.request_email_change(account_id=account.id, new_email=str(body.new_email),
                                         password=body.password, settings=settings,
                                         address=client_address(request), limiter=limiter, hashing=hashing)
    return Accepted(detail="A confirmation link is on its way to the new address.")


@router.post("/me/password", response_model=Token, responses=errors(400, 401, 408, 422, 503))
async def change_password(body: PasswordChange, account: CurrentAccount, settings: SettingsDep,
                          hashing: PasswordHashingDep) -> Token:
    """A new password (needs the current one, 400 otherwise). Every session and token of the account is signed
    out, this one included: the answer is a new access token."""
    fresh = await lifecycle.change_password(account_id=account.id, current_password=body.current_password,
                                            new_password=body.new_password, hashing=hashing)
    return Token(access_token=lifecycle.access_token(fresh, settings))


@router.post("/me/signout-everywhere", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 503))
def signout_everywhere(account: CurrentAccount, session: SessionDep) -> Response:
    """Sign the account out of every session and bearer token at once (this one included)."""
    lifecycle.sign_out_everywhere(session, account_id=account.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/notices", response_model=NoticeList, responses=errors(401, 422, 503))
def notices(account: CurrentAccount, session: SessionDep,
            limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
            offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> NoticeList:
    """The account's notices, newest first, and how many are unread."""
    return lifecycle.notice_list(session, account_id=account.id, limit=limit, offset=offset)


@router.post("/me/notices/read", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 503))
def read_all_notices(account: CurrentAccount, session: SessionDep) -> Response:
    """Mark every notice of the account read."""
    lifecycle.mark_notices_read(session, account_id=account.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/notices/{notice_id}/read", status_code=status.HTTP_204_NO_CONTENT,
             responses=errors(401, 404, 422, 503))
def read_notice(notice_id: Annotated[int, Path(ge=1, le=MAX_DB_ID)], account: CurrentAccount,
                session: SessionDep) -> Response:
    """Mark one notice read (404: no such notice of this account)."""
    if not lifecycle.mark_notices_read(session, account_id=account.id, notice_id=notice_id, must_exist=True):
        raise NotFound(f"Notice {notice_id} not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
