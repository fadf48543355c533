"""Who is calling: bearer token (API) or session cookie (web pages) -> Account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Account, Role
from marketplace.accounts.security import PasswordHashing
from marketplace.core.deps import SessionDep, SettingsDep
from marketplace.core.exceptions import Forbidden, Unauthorized

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_optional_account(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Account | None:
    if not token:
        return None
    account = accounts_service.account_for_token(session=session, token=token,
                                                 secret=settings.auth_secret.get_secret_value())
    if account is None:
        raise Unauthorized("Invalid, expired or signed-out access token")
    return account


def get_current_account(account: Annotated[Account | None, Depends(get_optional_account)]) -> Account:
    if account is None:
        raise Unauthorized("Sign in required")
    return account


def get_current_creator(account: Annotated[Account, Depends(get_current_account)]) -> Account:
    if account.role not in (Role.creator, Role.admin):
        raise Forbidden("Only creator accounts can do this")
    return account


def get_current_admin(account: Annotated[Account, Depends(get_current_account)]) -> Account:
    if account.role != Role.admin:
        raise Forbidden("Only admins can do this")
    return account


def get_password_hashing(request: Request) -> PasswordHashing:
    return request.app.state.password_hashing


PasswordHashingDep = Annotated[PasswordHashing, Depends(get_password_hashing)]
OptionalAccount = Annotated[Account | None, Depends(get_optional_account)]
CurrentAccount = Annotated[Account, Depends(get_current_account)]
CurrentCreator = Annotated[Account, Depends(get_current_creator)]
CurrentAdmin = Annotated[Account, Depends(get_current_admin)]


# ------------------------------------------------------------------------------------------ cookie sessions (pages)

SESSION_COOKIE = "mp_session"  # the web pages' sign-in: a signed access token in an HttpOnly, SameSite=Lax cookie


def get_cookie_account(request: Request, session: SessionDep, settings: SettingsDep) -> Account | None:
    """The account signed in to the web pages, or None. Only the pages use this; the JSON API takes bearer tokens
    (so a cookie alone can never call the API, and the pages' form posts carry a CSRF token)."""
    return accounts_service.account_for_token(session=session, token=request.cookies.get(SESSION_COOKIE),
                                              secret=settings.auth_secret.get_secret_value())


CookieAccount = Annotated[Account | None, Depends(get_cookie_account)]
