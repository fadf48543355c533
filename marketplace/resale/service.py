"""Resale: listings of tokens held in a collector's custody wallet, their checkout, and what follows them.

Resale owns the `listing` table. A listing is made only for a token the chain (its index, or `ownerOf` when the
index has not seen it yet) says is in the seller's custody wallet, the one address of theirs the platform holds the
key of. Its checkout is a first sale's (payments.checkout), a purchase of kind `resale`; its delivery moves the
token from that wallet to the buyer's (payments.delivery), and the settled hook (on_settled) marks it sold, or
withdrawn when the token had gone. A token that moves any other way (the indexer's transfer handler, follow_token)
withdraws its listing. No FastAPI, no Stripe of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts import own_wallets
from marketplace.accounts.models import Account
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import Work
from marketplace.core.db import utcnow
from marketplace.core.exceptions import ChainUnavailable, Conflict, Forbidden, NotFound
from marketplace.indexer import service as indexer_service
from marketplace.integrations.chain.client import ZERO_ADDRESS, ChainClient
from marketplace.integrations.stripe.gateway import StripeGateway
from marketplace.payments import checkout as checkout_flow
from marketplace.payments import service as payments_service
from marketplace.payments import withdrawals
from marketplace.payments.models import ACTIVE_STATUSES, Purchase
from marketplace.resale.models import Listing, ListingStatus

log = logging.getLogger(__name__)

MOVED_AWAY = "The token left the seller's custody wallet"
LISTED = "This token is listed for resale: withdraw the listing first"
WITHDRAWN = "This listing was withdrawn: the token is no longer in the seller's custody wallet"


def get_listing_or_raise(session: Session, listing_id: int) -> Listing:
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise NotFound(f"Listing {listing_id} not found")
    return listing


def work_of_token(session: Session, token_id: int) -> Work | None:
    """The work a token belongs to: a unique work's own token, or an edition sold here."""
    work = catalog_service.get_minted_by_token(session=session, token_id=token_id)
    if work is not None:
        return work
    edition = payments_service.delivered_edition(session=session, token_id=token_id)
    return session.get(Work, edition.work_id) if edition is not None else None


def holder_of(session: Session, token_id: int, chain: ChainClient | None, *, expected: str | None) -> str | None:
    """Who holds the token: the chain index; when it has not seen the token, or names someone other than
    `expected` (it may lag the chain by a block or two: a delivery just made), the chain itself (`ownerOf`)."""
    owner = indexer_service.owner_of(session, token_id)
    if chain is not None and (owner is None or not expected or owner.lower() != expected.lower()):
        owner = chain.owner_of(token_id)
    return owner


def create_listing(*, session: Session, seller: Account, token_id: int, price_cents: int,
                   chain: ChainClient | None) -> Listing:
    """List a token the seller's custody wallet holds, at `price_cents`. 404: no such token here; 403: the seller
    does not hold it; 409: it is in the seller's own wallet (no key here), the seller is its creator (a first sale
    is the work's own price), or it is listed already."""
    work = work_of_token(session, token_id)
    if work is None:
        raise NotFound("No such token on sale here")
    custody = seller.custodial_address
    owner = holder_of(session, token_id, chain, expected=custody)
    if owner is None or not custody or owner.lower() != custody.lower():
        if owner and own_wallets.owns_address(session=session, account=seller, address=owner):
            raise Conflict("This token is in your own wallet, which the platform holds no key for: only a token in "
                           "your custody wallet can be listed (send it there first)")
        raise Forbidden("You do not hold this token in your custody wallet")
    if work.creator_id == seller.id or catalog_service.is_collaborator(session, work_id=work.id, account_id=seller.id):
        raise Conflict("You created this work: its first sale is at the work's own price")
    if catalog_service.is_hidden(work):
        raise Conflict(checkout_flow.HIDDEN)
    # the work's row first (as a withdrawal of the token takes it): the checks and the insert below are one
    # transaction, never interleaved with a withdrawal's
    catalog_service.lock_work(session, work_id=work.id)
    if active_listing_of(session, str(token_id)) is not None:
        session.rollback()
        raise Conflict("This token is listed already")
    if withdrawals.pending_of(session, str(token_id)) is not None:
        session.rollback()
        raise Conflict("This token is on its way to your own wallet")
    listing = Listing(token_id=str(token_id), work_id=work.id, seller_id=seller.id, seller_address=custody,
                      price_cents=price_cents, currency="EUR")
    session.add(listing)
    try:
        session.commit()
    except IntegrityError:  # listed concurrently: the partial unique index keeps one
        session.rollback()
        raise Conflict("This token is listed already") from None
    session.refresh(listing)
    return listing


def active_listing_of(session: Session, token_id: str) -> Listing | None:
    return session.exec(select(Listing).where(Listing.token_id == token_id,
                                              Listing.status == ListingStatus.active)).first()


def _open_purchase(session: Session, listing_id: int, statuses: Sequence[str] = ("pending", "paid")) -> Purchase | None:
    return session.exec(select(Purchase).where(Purchase.listing_id == listing_id,
                                               col(Purchase.status).in_(tuple(statuses)))).first()


def cancel_listing(*, session: Session, listing_id: int, actor: Account) -> Listing:
    """The seller (or an admin) takes an active listing off sale: cancelled. 403 for anyone else; 409 when it is no
    longer active, or while a buyer's checkout of it is open or paid (try again when it ends)."""
    listing = get_listing_or_raise(session, listing_id)
    if listing.seller_id != actor.id and actor.role != "admin":
        raise Forbidden("Only the seller can withdraw this listing")
    if listing.status != ListingStatus.active:
        raise Conflict(f"Only an active listing can be withdrawn; this one is {listing.status}")
    if _open_purchase(session, listing.id) is not None:
        raise Conflict("A buyer's checkout of this listing is open: try again when it ends")
    if not _move(session, listing.id, to=ListingStatus.cancelled):
        raise Conflict("This listing changed meanwhile: reload it")
    session.commit()
    session.refresh(listing)
    return listing


def _move(session: Session, listing_id: int, *, to: ListingStatus, **values) -> bool:
    """active -> `to`, guarded: True when this call made the change."""
    return session.exec(update(Listing).where(Listing.id == listing_id, Listing.status == ListingStatus.active)
                        .values(status=to.value, updated_at=utcnow(), **values)).rowcount == 1


def list_listings(*, session: Session, work_id: int | None = None, status: ListingStatus | None = ListingStatus.active,
                  seller_id: int | None = None, offset: int = 0, limit: int = 100) -> tuple[list[Listing], int]:
    """Listings, cheapest first (then oldest), and their count; those of works moderation hid are left out."""
    where = [col(Listing.work_id).not_in(select(Work.id).where(col(Work.hidden_at).is_not(None)))]
    if work_id is not None:
        where.append(Listing.work_id == work_id)
    if status is not None:
        where.append(Listing.status == status.value)
    if seller_id is not None:
        where.append(Listing.seller_id == seller_id)
    count = session.exec(select(func.count()).select_from(Listing).where(*where)).one()
    rows = session.exec(select(Listing).where(*where).order_by(col(Listing.price_cents), col(Listing.id))
                        .offset(offset).limit(limit)).all()
    return list(rows), count


def resale_from(session: Session, work_ids: Sequence[int]) -> dict[int, int]:
    """Each work's cheapest active listing, in cents (works with none are missing): 'Resale from €X'."""
    if not work_ids:
        return {}
    rows = session.exec(select(Listing.work_id, func.min(Listing.price_cents)).where(
        col(Listing.work_id).in_(list(work_ids)), Listing.status == ListingStatus.active)
        .group_by(Listing.work_id)).all()
    return {work_id: cents for work_id, cents in rows}


def start_checkout(*, session: Session, listing_id: int, buyer: Account, gateway: StripeGateway,
                   license_accepted: bool, immediate_supply: bool, public_base_url: str, expires_minutes: int,
                   url_secret: str, locale: str = "auto", consent_text: str | None = None) -> Purchase:
    """Reserve an active listing for this buyer and open a Stripe Checkout Session for its price (see
    payments.checkout.start_resale_checkout). 409: not active (sold, withdrawn, cancelled), the token gone from
    the seller's custody wallet (the listing is withdrawn now), the buyer's own listing, or another buyer's
    checkout holds it."""
    listing = get_listing_or_raise(session, listing_id)
    if listing.status == ListingStatus.withdrawn:
        raise Conflict(WITHDRAWN)
    if listing.status != ListingStatus.active:
        raise Conflict(f"This listing is {listing.status}: it is no longer for sale")
    if listing.seller_id == buyer.id:
        raise Conflict("You cannot buy your own listing")
    if (moving := withdrawals.blocks_sale(session, listing.token_id)) is not None:
        raise Conflict(moving)
    if indexer_service.moved_away(session, int(listing.token_id), listing.seller_address) \
            and _open_purchase(session, listing.id) is None:
        if _move(session, listing.id, to=ListingStatus.withdrawn, withdrawn_reason=MOVED_AWAY):
            session.commit()
        raise Conflict(WITHDRAWN)
    work = session.get(Work, listing.work_id)
    if catalog_service.is_hidden(work):
        raise Conflict(checkout_flow.HIDDEN)

    def still_listed(tx: Session) -> bool:
        status = tx.exec(select(Listing.status).where(Listing.id == listing.id)).one()
        if status != ListingStatus.active:
            tx.rollback()
            raise Conflict(WITHDRAWN if status == ListingStatus.withdrawn else
                           f"This listing is {status}: it is no longer for sale")
        return True

    return checkout_flow.start_resale_checkout(
        session=session, resale=checkout_flow.Resale(listing_id=listing.id, work=work, token_id=listing.token_id,
                                                     seller_id=listing.seller_id, price_cents=listing.price_cents,
                                                     currency=listing.currency, still_listed=still_listed),
        buyer=buyer, gateway=gateway, license_accepted=license_accepted, immediate_supply=immediate_supply,
        **({"consent_text": consent_text} if consent_text else {}), public_base_url=public_base_url, expires_minutes=expires_minutes, url_secret=url_secret, locale=locale)


# ------------------------------------------------------------------ hooks (registered in marketplace.services)
def on_settled(session: Session, purchase: Purchase, outcome: str) -> None:
    """payments' settled hook: a resale delivered marks its listing sold; one found undeliverable (the token had
    left the seller's custody wallet) withdraws it."""
    if purchase.listing_id is None:
        return
    if outcome == payments_service.DELIVERED:
        session.exec(update(Listing).where(Listing.id == purchase.listing_id,
                                           col(Listing.status).in_((ListingStatus.active, ListingStatus.withdrawn)))
                     .values(status=ListingStatus.sold.value, sold_purchase_id=purchase.id, withdrawn_reason=None,
                             updated_at=utcnow()))
    elif outcome == payments_service.UNDELIVERABLE:
        _move(session, purchase.listing_id, to=ListingStatus.withdrawn, withdrawn_reason=MOVED_AWAY)


def delivery_check(session: Session, purchase: Purchase) -> str | None:
    """payments' check before a resale is sent on chain: its listing must still be active (or sold by this very
    purchase: a retry). A listing cancelled or withdrawn before a late payment arrived sells nothing."""
    if purchase.listing_id is None:
        return None
    listing = session.get(Listing, purchase.listing_id)
    if listing is None:
        return "The listing is gone"
    if listing.status == ListingStatus.active or listing.sold_purchase_id == purchase.id:
        return None
    return f"The listing was {listing.status} before the payment arrived: nothing was sold, the payment is refunded"


def follow_token(session: Session, token_id: int, from_address: str, to_address: str, event: object) -> None:
    """The indexer's transfer handler: a listed token that moves anywhere but to the buyer of its own resale (a
    paid purchase of the listing, delivered from the seller's custody wallet) withdraws its listing. A token gone
    (to the zero address: a mint undone by a reorganisation) changes nothing here."""
    listing = active_listing_of(session, str(token_id))
    if listing is None or to_address == ZERO_ADDRESS or to_address.lower() == listing.seller_address.lower():
        return
    delivery = _open_purchase(session, listing.id, statuses=ACTIVE_STATUSES)
    if delivery is not None and delivery.status in ("paid", "delivered") \
            and (delivery.wallet_address or "").lower() == to_address.lower() \
            and from_address.lower() == listing.seller_address.lower():
        return  # its own resale's delivery: the settled hook marks it sold
    if _move(session, listing.id, to=ListingStatus.withdrawn, withdrawn_reason=MOVED_AWAY):
        log.info("listing %s withdrawn: token %s moved from %s to %s", listing.id, token_id, from_address,
                 to_address)


def withdraw_token(*, session: Session, account: Account, token_id: int, to_address: str,
                   chain: ChainClient | None):
    """Queue the move of a token the account's custody wallet holds to one of its linked wallets
    (payments.withdrawals; the delivery worker sends it). NotFound: no such token here; Conflict: it is listed for
    resale (a listing blocks a withdrawal: withdraw the listing first), a withdrawal of it is under way, or a buyer's
    purchase of it is pending or paid."""
    work = work_of_token(session, token_id) if token_id < 2**256 else None
    if work is None:
        raise NotFound("No such token here")
    if active_listing_of(session, str(token_id)) is not None:
        raise Conflict(LISTED)
    if chain is None:
        raise ChainUnavailable("No contract is configured (CONTRACT_ADDRESS)")

    def not_listed(tx: Session) -> None:  # again under the work's lock: a listing made meanwhile
        if active_listing_of(tx, str(token_id)) is not None:
            raise Conflict(LISTED)

    return withdrawals.request_withdrawal(session=session, account=account, token_id=token_id,
                                          to_address=to_address, owner=chain.owner_of(token_id), work=work,
                                          still_free=not_listed)
