from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from marketplace.accounts import lifecycle, profiles
from marketplace.accounts import service as accounts_service
from marketplace.accounts.dependencies import CurrentAccount, PasswordHashingDep, oauth2_scheme
from marketplace.accounts.models import AccountCreate, AccountPublic, Token
from marketplace.core.api_errors import errors
from marketplace.core.deps import RateLimiterDep, SessionDep, SettingsDep, client_address

router = APIRouter(prefix="/api", tags=["accounts"])


def to_public(account) -> AccountPublic:
    return AccountPublic.model_validate(account, from_attributes=True)


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, response_model=AccountPublic,
             responses=errors(403, 408, 409, 422, 429, 503))
async def register(account_in: AccountCreate, request: Request, settings: SettingsDep, limiter: RateLimiterDep,
                   hashing: PasswordHashingDep) -> AccountPublic:
    """Rate limited per e-mail and per client address (429 with Retry-After). A link that verifies the e-mail is
    mailed to it (POST /api/auth/verify-email takes it)."""
    account = await lifecycle.sign_up(account_in=account_in, settings=settings, address=client_address(request),
                                      limiter=limiter, hashing=hashing)
    return to_public(account)


@router.post("/auth/token", response_model=Token, responses=errors(401, 408, 422, 429, 503))
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, settings: SettingsDep,
    limiter: RateLimiterDep, hashing: PasswordHashingDep,
) -> Token:
    """Rate limited per e-mail and per client address (429 with Retry-After); a wrong password answers 401 after a
    delay that grows with the recent failures."""
    account = await accounts_service.sign_in(email=form.username, password=form.password,
                                             address=client_address(request), limiter=limiter, hashing=hashing)
    return Token(access_token=lifecycle.access_token(account, settings))


@router.post("/auth/signout", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 503))
def signout(account: CurrentAccount, session: SessionDep, settings: SettingsDep,
            token: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    """Revoke the bearer token of this request until it expires; the account's other tokens keep working."""
    accounts_service.sign_out(session=session, token=token, secret=settings.auth_secret.get_secret_value())


@router.get("/me", response_model=AccountPublic, responses=errors(401, 503))
def me(account: CurrentAccount) -> AccountPublic:
    return to_public(account)


@router.get("/me/profile", response_model=profiles.ProfilePublic, responses=errors(401, 503))
def get_profile(account: CurrentAccount, session: SessionDep) -> profiles.ProfilePublic:
    """The caller's profile: display name, bio, location, links, disciplines, skills, avatar."""
    return profiles.profile_public(session=session, account=account)


@router.put("/me/profile", response_model=profiles.ProfilePublic,
            responses=errors(400, 401, 408, 422, 503))
def put_profile(profile_in: profiles.ProfileIn, account: CurrentAccount,
                session: SessionDep) -> profiles.ProfilePublic:
    """Replace the caller's profile (left out: emptied; `display_name` left out: kept). Bounded one-line texts
    without control characters (the bio may have newlines), at most 5 http(s) links, disciplines from the list,
    at most 20 skills."""
    return profiles.update_profile(session=session, account=account, profile_in=profile_in)
