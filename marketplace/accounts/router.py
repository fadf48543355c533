from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from marketplace.accounts import lifecycle, own_wallets, profiles
from marketplace.accounts import service as accounts_service
from marketplace.accounts.dependencies import CurrentAccount, PasswordHashingDep, oauth2_scheme
from marketplace.accounts.models import (
    AccountCreate,
    AccountPublic,
    LinkedWalletPublic,
    SiweNoncePublic,
    Token,
    WalletLink,
)
from marketplace.core.api_errors import errors
from marketplace.core.deps import RateLimiterDep, SessionDep, SettingsDep, client_address
from marketplace.integrations.adapters import AdaptersDep

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


# ------------------------------------------------------------------------- own wallets (EIP-4361, Sign-In with Ethereum)
def siwe_expected(services) -> own_wallets.Expected:
    return own_wallets.expected_for(services.settings, services.chain)


@router.get("/auth/siwe/nonce", response_model=SiweNoncePublic, responses=errors(401, 503))
def siwe_nonce(session: SessionDep, services: AdaptersDep, account: CurrentAccount) -> SiweNoncePublic:
    """A nonce for one EIP-4361 message: random, single use, valid SIWE_NONCE_MINUTES (10), tied to the caller
    (signed in only: 401 otherwise; only the caller's account can spend it). Also says which domain, URI origin and
    chain id the message must name (503 when no chain id is known)."""
    expected = siwe_expected(services)
    row = own_wallets.issue_nonce(session=session, account_id=account.id,
                                  minutes=services.settings.siwe_nonce_minutes)
    return SiweNoncePublic(nonce=row.nonce, expires_at=row.expires_at, domain=expected.domain,
                           uri=expected.origin + "/account", chain_id=expected.chain_id)


def _wallet_public(wallet) -> LinkedWalletPublic:
    return LinkedWalletPublic(address=wallet.address, via=wallet.via, linked_at=wallet.linked_at)


@router.post("/me/wallets", status_code=status.HTTP_201_CREATED, response_model=LinkedWalletPublic,
             responses=errors(400, 401, 409, 422, 503))
def link_wallet(body: WalletLink, account: CurrentAccount, session: SessionDep, services: AdaptersDep,
                response: Response) -> LinkedWalletPublic:
    """Link the address of a signed EIP-4361 message: well formed, naming this site's domain, an URI on its origin,
    its chain id and a live nonce of GET /api/auth/siwe/nonce (used once), not expired, and signed by the address
    (`personal_sign`; a contract wallet: EIP-1271 `isValidSignature`). Otherwise 400 and nothing is linked; 409:
    the address is another account's. 200 when it was yours already."""
    wallet, new = own_wallets.link_wallet(session=session, account=account, message=body.message,
                                          signature=body.signature, expected=siwe_expected(services),
                                          chain=services.chain)
    if not new:
        response.status_code = status.HTTP_200_OK
    return _wallet_public(wallet)


@router.get("/me/wallets", response_model=list[LinkedWalletPublic], responses=errors(401, 503))
def list_wallets(account: CurrentAccount, session: SessionDep) -> list[LinkedWalletPublic]:
    """Your linked wallets, first linked first (the first is `linked_address` of GET /api/me)."""
    return [_wallet_public(w) for w in own_wallets.linked_wallets(session=session, account_id=account.id)]


@router.delete("/me/wallets/{address}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 404, 422, 503))
def unlink_wallet(address: Annotated[str, Path(max_length=42)], account: CurrentAccount,
                  session: SessionDep) -> None:
    """Unlink one of your wallets (its tokens stay where they are on chain)."""
    own_wallets.unlink_wallet(session=session, account=account, address=address)
