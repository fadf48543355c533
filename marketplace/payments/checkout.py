"""Checkout: reserve a unique work for one buyer and open a Stripe Checkout Session for its price in euros.

Blocking (Stripe): routers run it off the event loop.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from eth_utils import is_address, to_checksum_address
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts.models import Account
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import SaleStatus, Work, WorkStatus
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Conflict, InvalidInput, MarketplaceError
from marketplace.integrations.stripe.gateway import StripeGateway
from marketplace.payments import service as payments_service
from marketplace.payments.models import ACTIVE_STATUSES, Purchase, PurchaseStatus


def start_checkout(
    *,
    session: Session,
    work: Work,
    buyer: Account,
    wallet_address: str | None,
    gateway: StripeGateway,
    public_base_url: str,
    expires_minutes: int,
    locale: str = "auto",
) -> Purchase:
    """Reserve a unique work for this buyer and open a Stripe Checkout Session for its price in euros, its page in
    `locale` (Stripe's codes; `auto` lets the buyer's browser choose).

    The reservation is a purchase row in an active status; a partial unique index allows one per work, so of any
    number of concurrent buyers exactly one gets it and the others get 409.
    """
    if work.status != WorkStatus.minted:
        raise Conflict("This work is not for sale yet (it is not minted)")
    if work.creator_id == buyer.id:
        raise Conflict("You cannot buy your own work")
    if wallet_address:
        if not is_address(wallet_address):
            raise InvalidInput("wallet_address is not a valid Ethereum address", loc=("body", "wallet_address"))
        wallet = to_checksum_address(wallet_address)
    else:
        wallet = buyer.wallet_address
    if not wallet:
        raise InvalidInput("No wallet to deliver to")

    _release_stale_reservations(session=session, work_id=work.id, gateway=gateway)

    existing = session.exec(
        select(Purchase).where(Purchase.work_id == work.id, col(Purchase.status).in_(ACTIVE_STATUSES))
    ).first()
    if existing is not None:
        if not (existing.buyer_id == buyer.id and existing.status == PurchaseStatus.pending
                and existing.wallet_address == wallet):
            raise Conflict("This work is sold" if existing.status == PurchaseStatus.delivered
                           else "This work is reserved by another buyer's checkout; try again later")
        if existing.checkout_url:
            return existing  # the same buyer asking again gets the same open session
        # this buyer's reservation whose session was never recorded (say, the database connection was lost
        # right after Stripe opened it): ask Stripe again with the same idempotency key and parameters
        purchase = existing
        expires_at = existing.expires_at if existing.expires_at.tzinfo else existing.expires_at.replace(tzinfo=UTC)
    else:
        # Stripe accepts 30 min .. 24 h from *its* now: keep a minute's margin on both ends
        expires_at = utcnow() + timedelta(seconds=min(max(expires_minutes * 60, 31 * 60), 24 * 3600 - 60))
        purchase = Purchase(work_id=work.id, buyer_id=buyer.id, status=PurchaseStatus.pending,
                            amount_cents=work.price_cents, currency=work.currency, wallet_address=wallet,
                            token_id=work.token_id, expires_at=expires_at)
        session.add(purchase)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise Conflict("This work is reserved by another buyer's checkout; try again later") from None
        if not catalog_service.reserve(session, work_id=work.id, price_cents=purchase.amount_cents):
            session.rollback()  # the price changed (or another checkout took it) since the work was read
            raise Conflict("This work's price has just changed: reload the page to see the new price")
        session.commit()  # the reservation is durable before Stripe hears of it

    base = public_base_url.rstrip("/")
    try:
        checkout = gateway.create_checkout_session(
            purchase_id=purchase.id, work_id=work.id, title=work.title, description=work.description,
            image_url=f"{base}/ipfs/{work.thumbnail_cid or work.media_cid}" if work.media_kind == "image" else None,
            amount_cents=purchase.amount_cents, currency=purchase.currency, customer_email=buyer.email,
            success_url=f"{base}/purchases/{purchase.id}?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/purchases/{purchase.id}?cancelled=1", expires_at=expires_at, locale=locale,
        )
    except MarketplaceError:
        # nothing was sold: release the reservation so the work stays available
        payments_service.transition(session, purchase.id, from_=("pending",), to=PurchaseStatus.expired,
                                    failure_reason="Stripe could not open a checkout session")
        catalog_service.set_sale_status(session, work.id, SaleStatus.available)
        session.commit()
        raise
    purchase.stripe_session_id = checkout.id
    purchase.checkout_url = checkout.url
    if checkout.expires_at:
        purchase.expires_at = checkout.expires_at
    session.add(purchase)
    session.commit()
    session.refresh(purchase)
    return purchase


def _release_stale_reservations(*, session: Session, work_id: int, gateway: StripeGateway) -> None:
    """A pending purchase past its session's expiry whose `expired` event we have not seen: ask Stripe."""
    stale = session.exec(select(Purchase).where(
        Purchase.work_id == work_id, Purchase.status == PurchaseStatus.pending, Purchase.expires_at < utcnow())).all()
    for purchase in stale:
        if purchase.stripe_session_id:
            try:
                remote = gateway.retrieve_checkout_session(purchase.stripe_session_id)
            except MarketplaceError:
                continue  # keep the reservation when in doubt
            if remote.status == "open":
                try:
                    remote = gateway.expire_checkout_session(purchase.stripe_session_id)
                except MarketplaceError:
                    continue
            if remote.status == "complete":
                continue  # paid: the webhook will (or did) arrive
        if payments_service.transition(session, purchase.id, from_=("pending",), to=PurchaseStatus.expired,
                                       failure_reason="The checkout session expired"):
            catalog_service.set_sale_status(session, work_id, SaleStatus.available)
    session.commit()
