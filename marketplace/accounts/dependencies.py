"""Who is calling: bearer token (API) -> Account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from marketplace.accounts import security
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Account, Role
from marketplace.db import SessionDep
from marketplace.dependencies import SettingsDep
from marketplace.exceptions import Forbidden, Unauthorized

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_optional_account(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Account | None:
    if not token:
        return None
    account_id = security.decode_access_token(token, secret=settings.auth_secret.get_secret_value())
    if account_id is None:
        raise Unauthorized("Invalid or expired access token")
    account = accounts_service.get_account(session=session, account_id=account_id)
    if account is None:
        raise Unauthorized("Invalid or expired access token")
    return account


def get_current_account(account: Annotated[Account | None, Depends(get_optional_account)]) -> Account:
    if account is None:
        raise Unauthorized("Sign in required")
    return account


def get_current_creator(account: Annotated[Account, Depends(get_current_account)]) -> Account:
    if account.role not in (Role.creator, Role.admin):
        raise Forbidden("Only creator accounts can do this")
    return account


OptionalAccount = Annotated[Account | None, Depends(get_optional_account)]
CurrentAccount = Annotated[Account, Depends(get_current_account)]
CurrentCreator = Annotated[Account, Depends(get_current_creator)]
