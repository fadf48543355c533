"""Resale: list a token held in custody, withdraw the listing, see listings, buy one by card."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, status

from marketplace.accounts.dependencies import CurrentAccount
from marketplace.core.api_errors import errors
from marketplace.core.deps import ListingId, SessionDep
from marketplace.core.exceptions import NotFound
from marketplace.core.limits import MAX_DB_ID, MAX_PAGE, MAX_PAGE_SIZE
from marketplace.integrations.adapters import AdaptersDep
from marketplace.payments.models import CheckoutCreate, CheckoutPublic, WithdrawalCreate, WithdrawalPublic
from marketplace.payments.router import checkout_limit
from marketplace.resale import service
from marketplace.resale.models import Listing, ListingStatus
from marketplace.resale.schemas import ListingCreate, ListingPage, ListingPublic

router = APIRouter(prefix="/api", tags=["resale"])
TokenId = Annotated[str, Path(pattern=r"^[0-9]{1,78}$", description="the token's id, decimal")]


def _public(listing: Listing) -> ListingPublic:
    return ListingPublic.model_validate(listing.model_dump())


@router.post("/tokens/{token_id}/listings", status_code=status.HTTP_201_CREATED, response_model=ListingPublic,
             responses=errors(401, 403, 404, 409, 422, 503))
def create_listing(token_id: TokenId, body: ListingCreate, session: SessionDep, services: AdaptersDep,
                   seller: CurrentAccount) -> ListingPublic:
    """Offer a token your custody wallet holds (as the chain says) for `price_cents`. 403: you do not hold it;
    409: it is in your own wallet (the platform moves tokens only from custody), you created the work, or it is
    listed already. When it sells, you receive the price minus the creators' royalty (the token's EIP-2981
    `royaltyInfo`) and the platform fee."""
    number = int(token_id)
    if number >= 2**256:
        raise NotFound("No such token on sale here")
    listing = service.create_listing(session=session, seller=seller, token_id=number, price_cents=body.price_cents,
                                     chain=services.chain)
    return _public(listing)


@router.get("/listings", response_model=ListingPage, responses=errors(422, 503))
def list_listings(session: SessionDep,
                  work_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
                  listing_status: Annotated[ListingStatus | None, Query(alias="status")] = ListingStatus.active,
                  page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
                  page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 24) -> ListingPage:
    """Listings (active ones by default), cheapest first; `work_id`: one work's (its editions' listings too)."""
    rows, count = service.list_listings(session=session, work_id=work_id, status=listing_status,
                                        offset=(page - 1) * page_size, limit=page_size)
    return ListingPage(data=[_public(r) for r in rows], count=count)


@router.delete("/listings/{listing_id}", response_model=ListingPublic,
               responses=errors(401, 403, 404, 409, 422, 503))
def cancel_listing(listing_id: ListingId, session: SessionDep, account: CurrentAccount) -> ListingPublic:
    """The seller (or an admin) takes the listing off sale (`cancelled`). 409 when it is sold or withdrawn, or while
    a buyer's checkout of it is open."""
    return _public(service.cancel_listing(session=session, listing_id=listing_id, actor=account))


@router.post("/listings/{listing_id}/checkout", status_code=status.HTTP_201_CREATED, response_model=CheckoutPublic,
             dependencies=[Depends(checkout_limit)], responses=errors(401, 404, 408, 409, 422, 429, 502, 503))
def checkout(listing_id: ListingId, session: SessionDep, services: AdaptersDep, buyer: CurrentAccount,
             checkout_in: Annotated[CheckoutCreate | None, Body()] = None) -> CheckoutPublic:
    """Reserve the listing and open a Stripe Checkout Session for its price, paid like a first sale (the body must
    say `accept_immediate_supply: true`); the token is delivered from the seller's custody wallet to yours, once.
    409: the listing is not active (withdrawn: its token left the seller's custody), your own, or another buyer's
    checkout holds it. `wallet_address` is ignored: a resale is delivered to the buyer's custody wallet."""
    purchase = service.start_checkout(
        session=session, listing_id=listing_id, buyer=buyer, gateway=services.gateway,
        license_accepted=checkout_in.accept_license if checkout_in else False,
        immediate_supply=checkout_in.accept_immediate_supply if checkout_in else False,
        public_base_url=services.settings.public_base_url,
        expires_minutes=services.settings.checkout_expires_minutes,
        url_secret=services.settings.auth_secret.get_secret_value())
    return CheckoutPublic(purchase_id=purchase.id, checkout_url=purchase.checkout_url)


@router.post("/tokens/{token_id}/withdraw", status_code=status.HTTP_202_ACCEPTED, response_model=WithdrawalPublic,
             responses=errors(401, 403, 404, 409, 422, 503))
def withdraw_token(token_id: TokenId, body: WithdrawalCreate, session: SessionDep, services: AdaptersDep,
                   account: CurrentAccount) -> WithdrawalPublic:
    """Move a token your custody wallet holds (as the chain says) to one of your linked wallets (else 422). The
    delivery worker sends it, exactly once; 403: your custody wallet does not hold it; 409: a withdrawal of it is
    under way, or it is listed for resale (withdraw the listing first)."""
    row = service.withdraw_token(session=session, account=account, token_id=int(token_id),
                                 to_address=body.to_address, chain=services.chain)
    return WithdrawalPublic.model_validate(row.model_dump())
