"""Checkout: reserve a unique work for one buyer (or an awarded call's budget for its caller) and open a Stripe
Checkout Session for its price in euros; the buyer's way back from it (cancel, or a declined card), and "Return to
payment".

Blocking (Stripe): routers run it off the event loop.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from eth_utils import is_address, to_checksum_address
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts import own_wallets
from marketplace.accounts.models import Account
from marketplace.calls import service as calls_service
from marketplace.calls.models import Call
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import SaleStatus, Work, WorkStatus
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Conflict, Forbidden, InvalidInput, MarketplaceError
from marketplace.integrations.stripe.gateway import CheckoutSession, PaymentError, PaymentProviderError, StripeGateway
from marketplace.payments import service as payments_service
from marketplace.payments import withdrawals
from marketplace.payments.models import (
    ACTIVE_STATUSES,
    IMMEDIATE_SUPPLY_CONSENT,
    Purchase,
    PurchaseKind,
    PurchaseStatus,
)

CANCELLED_REASON = "Cancelled by the buyer"
CONSENT_REQUIRED = ("Consent to immediate supply is required: set accept_immediate_supply to true to ask for the "
                    "work at once and acknowledge losing the right of withdrawal")
EXPIRED_REASON = "The checkout session expired"
PRICE_CHANGED = "This work's price has just changed: reload the page to see the new price"


class SoldOut(Conflict):
    """Every edition of a work of several is sold or held by a checkout (one may free up when it expires)."""

    code = "sold_out"

    def __init__(self, edition_size: int) -> None:
        super().__init__(f"Sold out: all {edition_size} editions of this work are sold or reserved by other buyers' "
                         "checkouts")


class CheckoutCompleted(Conflict):
    """The buyer has paid for this work already: the payment is being confirmed."""

    code = "checkout_completed"

    def __init__(self, purchase_id: int) -> None:
        super().__init__("You have paid for this work already: the payment is being confirmed")
        self.purchase_id = purchase_id


def cancel_key(secret: str, purchase_id: int) -> str:
    """What the cancel_url carries so that only Stripe's way back (not any link a third party makes the buyer's
    browser open) cancels a checkout on arrival: HMAC(secret, purchase id)."""
    return hmac.new(secret.encode(), f"checkout-cancel/v1/{purchase_id}".encode(), hashlib.sha256).hexdigest()[:32]


def is_cancel_key(secret: str, purchase_id: int, key: str | None) -> bool:
    return bool(key) and hmac.compare_digest(cancel_key(secret, purchase_id), key)


@dataclass(frozen=True)
class Item:
    """What a checkout sells: a unique work (its token delivered to `wallet`) or an awarded call's budget. One
    active purchase per item (a partial unique index on `column`)."""

    column: str  # "work_id" or "call_id"
    id: int
    title: str
    description: str
    image_url: str | None
    amount_cents: int
    currency: str
    wallet: str | None
    return_path: str  # where Checkout sends the buyer back: /purchases/<id> or /calls/<id>
    taken: str  # why another buyer cannot check it out now
    sold: str = ""  # why nobody can any more (a work's delivered purchase)
    token_id: str | None = None
    # the buyer must consent to immediate supply (art. 16(m) CRD): a work, supplied the moment it is paid. Not a
    # call's budget: nothing is supplied at payment (the team delivers later), and a commission to one's own brief
    # is a business's order under the terms (see the README, "What a buyer is owed")
    needs_consent: bool = True
    reserve: Callable[[Session, Purchase], bool] = lambda session, purchase: True  # the item's own hold on it
    # a work of several editions: each checkout holds one, the lowest free number (`pick`, under the work's lock)
    edition_size: int = 1
    pick: Callable[[Session], int] | None = None
    extra: dict | None = None  # more columns of the new purchase (a resale's kind, work, seller)

    @property
    def where(self):
        return getattr(Purchase, self.column) == self.id


HIDDEN = "This work was hidden by the marketplace's moderation: it cannot be bought"


def start_checkout(
    *,
    session: Session,
    work: Work,
    buyer: Account,
    wallet_address: str | None,
    gateway: StripeGateway,
    license_accepted: bool = False,
    immediate_supply: bool = False,
    consent_text: str = IMMEDIATE_SUPPLY_CONSENT,
    public_base_url: str,
    expires_minutes: int,
    url_secret: str,
    locale: str = "auto",
) -> Purchase:
    """Reserve a unique work for this buyer and open a Stripe Checkout Session for its price in euros, its page in
    `locale` (Stripe's codes; `auto` lets the buyer's browser choose).

    The reservation is a purchase row in an active status; a partial unique index allows one per work, so of any
    number of concurrent buyers exactly one gets it and the others get 409. The buyer's own open reservation asked
    for again ("Return to payment") gives its session back while Stripe can still take the payment, and a new one
    when that session is gone; paid already: CheckoutCompleted (409). `license_accepted`: the buyer confirmed
    having read the work's licence, recorded on a new reservation. `immediate_supply`: the buyer's express consent
    to immediate supply and acknowledgement of losing the withdrawal right, in the words `consent_text` (as they
    read them); required (InvalidInput, 422, before anything is reserved or Stripe is asked), recorded on a new
    reservation with its time. A work moderation hid: 409 (HIDDEN), before anything else.
    """
    if catalog_service.is_hidden(work):
        raise Conflict(HIDDEN)
    if work.status != WorkStatus.minted:
        raise Conflict("This work is not for sale yet (it is not minted)")
    if work.edition_size == 1 and (moving := withdrawals.blocks_sale(session, work.token_id)) is not None:
        raise Conflict(moving)
    if work.sale_status == SaleStatus.withdrawn or (
            work.sale_status == SaleStatus.available and catalog_service.token_left_custody(session, work)):
        if catalog_service.withdraw(session, work.id):
            session.commit()
        raise Conflict(catalog_service.WITHDRAWN)
    if work.creator_id == buyer.id:
        raise Conflict("You cannot buy your own work")
    if catalog_service.is_collaborator(session, work_id=work.id, account_id=buyer.id):
        raise Conflict("You cannot buy a work you co-created")
    if catalog_service.has_deleted_creator(session, work):
        raise Conflict("A creator of this work deleted their account: it is no longer for sale")
    if wallet_address:
        if not is_address(wallet_address):
            raise InvalidInput("wallet_address is not a valid Ethereum address", loc=("body", "wallet_address"))
        wallet = to_checksum_address(wallet_address)
        if not own_wallets.owns_address(session=session, account=buyer, address=wallet):
            raise InvalidInput("wallet_address must be your custody wallet or one of your linked wallets "
                               "(link one with POST /api/me/wallets)", loc=("body", "wallet_address"))
    else:
        wallet = buyer.custodial_address  # left out: custody (where the platform can resell or withdraw it from)
    if not wallet:
        raise InvalidInput("No wallet to deliver to")
    return _checkout(session=session, item=_work_item(work, wallet=wallet, public_base_url=public_base_url),
                     buyer=buyer, gateway=gateway, public_base_url=public_base_url, expires_minutes=expires_minutes,
                     url_secret=url_secret, locale=locale, license_accepted=license_accepted,
                     consent=consent_text if immediate_supply else None)


@dataclass(frozen=True)
class Resale:
    """What a resale checkout buys (marketplace.resale checks the listing and passes this down): a listing's token,
    moved at delivery from the seller's custody wallet to the buyer's."""

    listing_id: int
    work: Work
    token_id: str
    seller_id: int
    price_cents: int
    currency: str = "EUR"
    # the listing's own hold, in the reservation's transaction: False when it is no longer on sale
    still_listed: Callable[[Session], bool] = lambda session: True


def start_resale_checkout(*, session: Session, resale: Resale, buyer: Account, gateway: StripeGateway,
                          license_accepted: bool = False, immediate_supply: bool = False,
                          consent_text: str = IMMEDIATE_SUPPLY_CONSENT, public_base_url: str, expires_minutes: int,
                          url_secret: str, locale: str = "auto") -> Purchase:
    """A listing bought by card: the same machinery as a first sale (the consent required, the same session again
    while it is open, one active purchase per listing by a partial unique index: of concurrent buyers one gets it,
    the others 409), a purchase of kind `resale` delivered to the buyer's custody wallet."""
    if resale.seller_id == buyer.id:
        raise Conflict("You cannot buy your own listing")
    if not buyer.custodial_address:
        raise InvalidInput("No wallet to deliver to")
    item = _resale_item(resale, wallet=buyer.custodial_address, public_base_url=public_base_url)
    return _checkout(session=session, item=item, buyer=buyer, gateway=gateway, public_base_url=public_base_url,
                     expires_minutes=expires_minutes, url_secret=url_secret, locale=locale,
                     license_accepted=license_accepted, consent=consent_text if immediate_supply else None)


def _resale_item(resale: Resale, *, wallet: str | None, public_base_url: str) -> Item:
    work = resale.work
    base = public_base_url.rstrip("/")
    return Item(
        column="listing_id", id=resale.listing_id, title=work.title, description=work.description,
        image_url=f"{base}/ipfs/{work.thumbnail_cid or work.media_cid}" if work.media_kind == "image" else None,
        amount_cents=resale.price_cents, currency=resale.currency, wallet=wallet, token_id=resale.token_id,
        return_path="/purchases/{purchase_id}", sold="This listing is sold",
        taken="This listing is reserved by another buyer's checkout; try again later",
        extra={"kind": PurchaseKind.resale.value, "work_id": work.id, "seller_id": resale.seller_id},
        reserve=lambda session, purchase: resale.still_listed(session))


def start_call_checkout(*, session: Session, call_id: int, buyer: Account, gateway: StripeGateway,
                        public_base_url: str, expires_minutes: int, url_secret: str, locale: str = "auto") -> Purchase:
    """The caller pays an awarded call's budget by card: the same machinery as a work's checkout (one active
    purchase per call, the same session again while it is open; paid already: 409 from payable_call). When the
    payment is recorded the webhook credits the team (payments_service.record_call_paid)."""
    call = calls_service.payable_call(session=session, call_id=call_id, payer=buyer)
    return _checkout(session=session, item=_call_item(call), buyer=buyer, gateway=gateway,
                     public_base_url=public_base_url, expires_minutes=expires_minutes, url_secret=url_secret,
                     locale=locale)


def _checkout(*, session: Session, item: Item, buyer: Account, gateway: StripeGateway, public_base_url: str,
              expires_minutes: int, url_secret: str, locale: str, license_accepted: bool = False,
              consent: str | None = None) -> Purchase:
    """Reserve the item for this buyer (a pending purchase, committed before Stripe hears of it) and open, or find
    again, its Checkout Session. See start_checkout (`license_accepted` and `consent`, the words of the buyer's
    consent to immediate supply, are recorded on a new reservation). An item that needs the consent is refused
    without it before anything else happens: nothing released, reserved or sent to Stripe."""
    if item.needs_consent and not (consent and consent.strip()):
        raise InvalidInput(CONSENT_REQUIRED, loc=("body", "accept_immediate_supply"))
    _release_stale_reservations(session=session, item=item, gateway=gateway)

    held = select(Purchase).where(item.where, col(Purchase.status).in_(ACTIVE_STATUSES))
    if item.pick is not None:  # an edition: only the buyer's own open checkout of this work is theirs to find again
        held = held.where(Purchase.buyer_id == buyer.id, Purchase.status == PurchaseStatus.pending,
                          Purchase.wallet_address == item.wallet)
    existing = session.exec(held).first()
    if existing is not None:
        if not (existing.buyer_id == buyer.id and existing.status == PurchaseStatus.pending
                and existing.wallet_address == item.wallet):
            raise Conflict(item.sold if existing.status == PurchaseStatus.delivered else item.taken)
        if existing.checkout_url and _still_payable(session=session, purchase=existing, gateway=gateway):
            return existing  # the same buyer asking again gets the same open session
    if existing is not None and not existing.checkout_url:
        # this buyer's reservation whose session was never recorded (say, the database connection was lost
        # right after Stripe opened it): ask Stripe again with the same idempotency key and parameters
        purchase = existing
    else:
        # Stripe accepts 30 min .. 24 h from *its* now: keep a minute's margin on both ends
        expires_at = utcnow() + timedelta(seconds=min(max(expires_minutes * 60, 31 * 60), 24 * 3600 - 60))
        edition_number = item.pick(session) if item.pick is not None else None  # SoldOut: nothing reserved
        purchase = Purchase(**{item.column: item.id}, **(item.extra or {}), buyer_id=buyer.id, status=PurchaseStatus.pending,
                            amount_cents=item.amount_cents, currency=item.currency, wallet_address=item.wallet,
                            edition_number=edition_number, token_id=item.token_id, expires_at=expires_at,
                            license_accepted_at=utcnow() if license_accepted else None,
                            immediate_supply_consent_at=utcnow() if consent else None,
                            immediate_supply_consent_text=consent[:1000] if consent else None)
        session.add(purchase)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise Conflict(item.taken) from None
        if not item.reserve(session, purchase):
            session.rollback()  # the price changed (or another checkout took it) since the work was read
            raise Conflict(PRICE_CHANGED)
        session.commit()  # the reservation is durable before Stripe hears of it

    try:
        checkout = _create_session(purchase=purchase, item=item, buyer=buyer, gateway=gateway,
                                   public_base_url=public_base_url, url_secret=url_secret, locale=locale)
    except MarketplaceError:
        # nothing was sold: release the reservation so the item stays available
        payments_service.release_reservation(session, purchase, reason="Stripe could not open a checkout session")
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


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _create_session(*, purchase: Purchase, item: Item, buyer: Account, gateway: StripeGateway,
                    public_base_url: str, url_secret: str, locale: str) -> CheckoutSession:
    """Open (or, with the same idempotency key and parameters, find again) the purchase's Checkout Session."""
    base = public_base_url.rstrip("/")
    back = base + item.return_path.format(purchase_id=purchase.id)
    joiner = "&" if "?" in back else "?"
    return gateway.create_checkout_session(
        purchase_id=purchase.id, reference={item.column: str(item.id)}, title=item.title,
        description=item.description, image_url=item.image_url, amount_cents=purchase.amount_cents,
        currency=purchase.currency, customer_email=buyer.email,
        success_url=f"{back}{joiner}session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{back}{joiner}cancelled=1&key={cancel_key(url_secret, purchase.id)}",
        expires_at=_aware(purchase.expires_at), locale=locale,
    )


def _still_payable(*, session: Session, purchase: Purchase, gateway: StripeGateway) -> bool:
    """Can the buyer still pay in this purchase's session? Open (or Stripe cannot say right now): yes. Paid
    meanwhile: CheckoutCompleted. Gone (expired, the event not handled yet): the reservation is released, no."""
    try:
        remote = gateway.retrieve_checkout_session(purchase.stripe_session_id)
    except MarketplaceError:
        return True  # when in doubt, the session Stripe opened
    if remote.status == "open":
        return True
    if remote.status == "complete":
        raise CheckoutCompleted(purchase.id)
    payments_service.release_reservation(session, purchase, reason=EXPIRED_REASON)
    session.commit()
    return False


def cancel_checkout(*, session: Session, purchase: Purchase, buyer: Account, gateway: StripeGateway,
                    public_base_url: str, url_secret: str, locale: str = "auto") -> Purchase:
    """The buyer cancels a pending purchase: its session is expired at Stripe (so it can no longer be paid) and the
    reservation released at once, so the work is available again. 409 unless pending (cancelled already
    included), or when Stripe says it is paid; Stripe unreachable: 503 and nothing changed.

    Safe against the `checkout.session.expired` webhook (the same guarded transition: whichever comes first
    releases, the other changes nothing) and against a `completed` event after it (Stripe no longer takes a
    payment for an expired session; one arriving anyway is the webhook's late-payment case)."""
    if purchase.buyer_id != buyer.id:
        raise Forbidden("Only the buyer can cancel this checkout")
    if purchase.status != PurchaseStatus.pending:
        raise Conflict(f"Only a pending checkout can be cancelled; this purchase is {purchase.status}")
    session_id = purchase.stripe_session_id
    if session_id is None:
        # Stripe may have opened a session whose id was never recorded: the same idempotency key finds it. When
        # Stripe refuses that (other parameters: another page language), no session we could find is released; a
        # payment in it after all is the webhook's late-payment case.
        try:
            session_id = _create_session(purchase=purchase, item=_item_of(session, purchase, public_base_url),
                                         buyer=buyer, gateway=gateway, public_base_url=public_base_url,
                                         url_secret=url_secret, locale=locale).id
        except PaymentProviderError:
            session_id = None
    if session_id is not None:
        try:
            remote = gateway.expire_checkout_session(session_id)
        except PaymentProviderError:  # not open any more (expired, or paid): ask what it is
            remote = gateway.retrieve_checkout_session(session_id)
        if remote.status == "complete":
            raise CheckoutCompleted(purchase.id)
        if remote.status != "expired":
            raise Conflict(f"Stripe did not expire the checkout session (it is {remote.status})")
    payments_service.release_reservation(session, purchase, reason=CANCELLED_REASON)
    session.commit()
    session.refresh(purchase)
    return purchase


HIDDEN_REASON = "The work was hidden by moderation"


def expire_checkouts_of_hidden(session: Session, work_id: int, adapters) -> int:
    """Moderation hid the work (its hide handler, registered by marketplace.services): every open checkout of it
    is expired at Stripe, so it can no longer be paid, and its reservation released. A session Stripe says is paid
    already is left to the webhook (the payment came before the decision). How many were released."""
    released = 0
    for purchase in payments_service.pending_of_work(session=session, work_id=work_id):
        if purchase.stripe_session_id is not None:
            try:
                remote = adapters.gateway.expire_checkout_session(purchase.stripe_session_id)
            except PaymentProviderError:  # not open any more (expired, or paid): ask what it is
                remote = adapters.gateway.retrieve_checkout_session(purchase.stripe_session_id)
            if remote.status == "complete":
                continue
        released += payments_service.release_reservation(session, purchase, reason=HIDDEN_REASON)
        session.commit()
    return released


@dataclass(frozen=True)
class CheckoutReturn:
    """What happened when the buyer came back from Checkout without paying."""

    # cancelled: released now; declined: their card was, the session stays open; paid: Stripe has the payment;
    # unknown: not cancelled (Stripe could not say, or not the cancel link): the reservation holds until expiry;
    # settled: the purchase was no longer pending
    outcome: Literal["cancelled", "declined", "paid", "unknown", "settled"]
    payment_error: PaymentError | None = None


def return_from_checkout(*, session: Session, purchase: Purchase, buyer: Account, gateway: StripeGateway,
                         public_base_url: str, url_secret: str, cancel: bool, locale: str = "auto") -> CheckoutReturn:
    """The buyer came back from Checkout without paying. A declined card (the session's PaymentIntent holds a
    `last_payment_error`) keeps the session open for another try; otherwise the buyer cancelled, and with `cancel`
    (they came by the cancel link Stripe was given) the checkout is cancelled now (cancel_checkout)."""
    if purchase.status != PurchaseStatus.pending:
        return CheckoutReturn("settled")
    try:
        if purchase.stripe_session_id:
            remote = gateway.retrieve_checkout_session(purchase.stripe_session_id, with_payment_error=True)
            if remote.status == "complete":
                return CheckoutReturn("paid")
            if remote.status == "open" and remote.payment_error is not None:
                return CheckoutReturn("declined", remote.payment_error)
        if not cancel:
            return CheckoutReturn("unknown")
        cancel_checkout(session=session, purchase=purchase, buyer=buyer, gateway=gateway,
                        public_base_url=public_base_url, url_secret=url_secret, locale=locale)
    except CheckoutCompleted:
        return CheckoutReturn("paid")
    except MarketplaceError:
        session.rollback()
        return CheckoutReturn("unknown")
    return CheckoutReturn("cancelled")


def _work_item(work: Work, *, wallet: str | None, public_base_url: str) -> Item:
    base = public_base_url.rstrip("/")
    if work.edition_size > 1:
        return Item(
            column="work_id", id=work.id, title=work.title, description=work.description,
            image_url=f"{base}/ipfs/{work.thumbnail_cid or work.media_cid}" if work.media_kind == "image" else None,
            amount_cents=work.price_cents, currency=work.currency, wallet=wallet,
            return_path="/purchases/{purchase_id}", sold="This work is sold out",
            taken="This edition was just reserved by another buyer's checkout; try again",
            edition_size=work.edition_size, pick=lambda session: _pick_edition(session, work),
            reserve=lambda session, purchase: _hold_edition(session, work))
    return Item(
        column="work_id", id=work.id, title=work.title, description=work.description,
        image_url=f"{base}/ipfs/{work.thumbnail_cid or work.media_cid}" if work.media_kind == "image" else None,
        amount_cents=work.price_cents, currency=work.currency, wallet=wallet, token_id=work.token_id,
        return_path="/purchases/{purchase_id}", sold="This work is sold",
        taken="This work is reserved by another buyer's checkout; try again later",
        reserve=lambda session, purchase: catalog_service.reserve(session, work_id=work.id,
                                                                  price_cents=purchase.amount_cents))


def _pick_edition(session: Session, work: Work) -> int:
    """The lowest edition number no active purchase holds, with the work's row locked until the reservation
    commits: concurrent checkouts of the work pick one after the other, each seeing the ones before (the partial
    unique index on (work, edition number) is the backstop). The price is checked under the same lock."""
    if not catalog_service.lock_work(session, work_id=work.id, price_cents=work.price_cents):
        session.rollback()
        raise Conflict(PRICE_CHANGED)
    number = payments_service.free_edition(session, work)
    if number is None:
        session.rollback()
        raise SoldOut(work.edition_size)
    return number


def _hold_edition(session: Session, work: Work) -> bool:
    """The new reservation counts in the work's counters and sale status (in its transaction)."""
    payments_service.refresh_sale_status(session, work.id)
    return True


def _call_item(call: Call) -> Item:
    return Item(column="call_id", id=call.id, title=call.title, description=call.brief, image_url=None,
                amount_cents=call.budget_cents, currency=call.currency, wallet=None,
                return_path=f"/calls/{call.id}?purchase={{purchase_id}}",
                taken="This call's budget is being paid in another checkout; try again later", needs_consent=False)


def _item_of(session: Session, purchase: Purchase, public_base_url: str) -> Item:
    """The item a recorded purchase is for, described to Stripe as its checkout did (for the idempotent replay)."""
    if purchase.call_id is not None:
        return _call_item(calls_service.get_call_or_raise(session=session, call_id=purchase.call_id))
    work = catalog_service.get_work_or_raise(session=session, work_id=purchase.work_id)
    if purchase.kind == PurchaseKind.resale:
        return _resale_item(Resale(listing_id=purchase.listing_id, work=work, token_id=purchase.token_id,
                                   seller_id=purchase.seller_id, price_cents=purchase.amount_cents,
                                   currency=purchase.currency),
                            wallet=purchase.wallet_address, public_base_url=public_base_url)
    return _work_item(work, wallet=purchase.wallet_address, public_base_url=public_base_url)


def _release_stale_reservations(*, session: Session, item: Item, gateway: StripeGateway) -> None:
    """A pending purchase past its session's expiry whose `expired` event we have not seen: ask Stripe."""
    stale = session.exec(select(Purchase).where(
        item.where, Purchase.status == PurchaseStatus.pending, Purchase.expires_at < utcnow())).all()
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
        payments_service.release_reservation(session, purchase, reason=EXPIRED_REASON)
    session.commit()
