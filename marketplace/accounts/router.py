from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from marketplace.api_errors import errors
from marketplace.accounts import security
from marketplace.accounts import service as accounts_service
from marketplace.accounts.dependencies import CurrentAccount, oauth2_scheme
from marketplace.accounts.models import AccountCreate, AccountPublic, Token
from marketplace.db import SessionDep
from marketplace.dependencies import SettingsDep

router = APIRouter(prefix="/api", tags=["accounts"])


def to_public(account) -> AccountPublic:
    return AccountPublic.model_validate(account, from_attributes=True)


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, response_model=AccountPublic,
             responses=errors(403, 409, 422, 429, 503))
def register(account_in: AccountCreate, session: SessionDep, settings: SettingsDep) -> AccountPublic:
    account = accounts_service.register(
        session=session, account_in=account_in, wallet_secret=settings.wallet_secret.get_secret_value()
    )
    return to_public(account)


@router.post("/auth/token", response_model=Token, responses=errors(401, 422, 429, 503))
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> Token:
    account = accounts_service.authenticate(session=session, email=form.username, password=form.password)
    access = security.create_access_token(
        account_id=account.id, secret=settings.auth_secret.get_secret_value(), minutes=settings.access_token_minutes
    )
    return Token(access_token=access)


@router.post("/auth/signout", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 503))
def signout(account: CurrentAccount, session: SessionDep, settings: SettingsDep,
            token: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    """Revoke the bearer token of this request until it expires; the account's other tokens keep working."""
    accounts_service.sign_out(session=session, token=token, secret=settings.auth_secret.get_secret_value())


@router.get("/me", response_model=AccountPublic, responses=errors(401, 503))
def me(account: CurrentAccount) -> AccountPublic:
    return to_public(account)
