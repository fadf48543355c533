"""Purchases and the ledger: lookups, guarded state changes, bookings. No FastAPI, no Stripe, no chain.

Payments own the `purchase`, `ledger_entry` and `stripe_event` tables; a work's sale status and owner change through
the catalog service, a call's status through the calls service.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts import lifecycle, own_wallets
from marketplace.accounts.models import Account
from marketplace.calls import service as calls_service
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import SaleStatus, Work, WorkCollaborator
from marketplace.core.db import transition_rows, utcnow
from marketplace.core.exceptions import NotFound
from marketplace.core.money import allocate, fee_of, resale_split
from marketplace.indexer import service as indexer_service
from marketplace.mail.outbox import Sender
from marketplace.mail.texts import _
from marketplace.payments.models import (
    ACTIVE_STATUSES,
    LedgerEntry,
    LedgerEntryPublic,
    LedgerEntryType,
    Purchase,
    PurchaseKind,
    PurchasePublic,
    PurchaseStatus,
)

log = logging.getLogger(__name__)

# What other domains (resale sits above payments) do when a resale purchase settles, in the same transaction:
# fn(session, purchase, outcome), outcome "delivered" (the token reached the buyer) or "undeliverable" (the token
# left the seller's custody wallet before delivery: the purchase is refunded). See register_settled_hook.
SettledHook = Callable[[Session, Purchase, str], None]
_settled_hooks: list[SettledHook] = []
DELIVERED = "delivered"
UNDELIVERABLE = "undeliverable"


def register_settled_hook(fn: SettledHook) -> None:
    """Call fn(session, purchase, outcome) in the payments' transaction when a resale purchase is delivered or
    found undeliverable (registering the same function again changes nothing). Raising rolls the change back."""
    if fn not in _settled_hooks:
        _settled_hooks.append(fn)


def run_settled_hooks(session: Session, purchase: Purchase, outcome: str) -> None:
    for fn in _settled_hooks:
        fn(session, purchase, outcome)


# Before a resale is delivered: fn(session, purchase) -> why it must not be (None: deliver it). See
# register_delivery_check.
DeliveryCheck = Callable[[Session, Purchase], "str | None"]
_delivery_checks: list[DeliveryCheck] = []


def register_delivery_check(fn: DeliveryCheck) -> None:
    """Ask fn(session, purchase) before a resale purchase is sent on chain: a reason returned makes it undeliverable
    (refunded, nothing moved). Registering the same function again changes nothing."""
    if fn not in _delivery_checks:
        _delivery_checks.append(fn)


def delivery_refused(session: Session, purchase: Purchase) -> str | None:
    for fn in _delivery_checks:
        reason = fn(session, purchase)
        if reason:
            return reason
    return None


def get_purchase(*, session: Session, purchase_id: int) -> Purchase | None:
    return session.get(Purchase, purchase_id)


def get_purchase_or_raise(*, session: Session, purchase_id: int) -> Purchase:
    purchase = get_purchase(session=session, purchase_id=purchase_id)
    if purchase is None:
        raise NotFound(f"Purchase {purchase_id} not found")
    return purchase


def may_see(purchase: Purchase, viewer: Account) -> bool:
    """A purchase is the buyer's and the admins' business only."""
    return purchase.buyer_id == viewer.id or viewer.role == "admin"


def get_visible_purchase_or_raise(*, session: Session, purchase_id: int, viewer: Account) -> Purchase:
    """The purchase, or NotFound -- also when it is someone else's (ids are sequential: no hint that it exists)."""
    purchase = get_purchase(session=session, purchase_id=purchase_id)
    if purchase is None or not may_see(purchase, viewer):
        raise NotFound(f"Purchase {purchase_id} not found")
    return purchase


def open_checkout_of(*, session: Session, buyer_id: int, work_id: int) -> Purchase | None:
    """The buyer's pending purchase of this work (their open checkout), if any."""
    return session.exec(select(Purchase).where(Purchase.work_id == work_id, Purchase.buyer_id == buyer_id,
                                               Purchase.status == PurchaseStatus.pending,
                                               Purchase.kind == PurchaseKind.primary)).first()


def pending_of_work(*, session: Session, work_id: int) -> list[Purchase]:
    """The work's pending purchases (its open checkouts)."""
    return list(session.exec(select(Purchase).where(Purchase.work_id == work_id,
                                                    Purchase.status == PurchaseStatus.pending)).all())


def list_purchases(*, session: Session, buyer_id: int) -> list[Purchase]:
    return list(session.exec(
        select(Purchase).where(Purchase.buyer_id == buyer_id).order_by(col(Purchase.id).desc())).all())


def transition_many(session: Session, purchase_ids: list[int], *, from_: tuple[str, ...], to: str,
                    **values) -> list[int]:
    """The purchases' guarded state change (db.transition_rows): the ids this call moved. Runs on every webhook."""
    return transition_rows(session, Purchase.__table__, purchase_ids, from_=from_, to=to, **values)


def transition(session: Session, purchase_id: int, *, from_: tuple[str, ...], to: str, **values) -> bool:
    """transition_many for one purchase: True when this call made the change."""
    return bool(transition_many(session, [purchase_id], from_=from_, to=to, **values))


def lock_and_reload(session: Session, purchase: Purchase) -> None:
    """Hold the purchase's row for this transaction and read it again, so what follows decides on what it holds
    now, not on what was loaded: a webhook loads the purchase, then a cancel, the delivery worker or another event
    may commit before its guarded change (a charge.refunded deciding from a stale `paid` skipped the reversal of a
    sale delivered meanwhile). An UPDATE that changes nothing: a row lock on PostgreSQL, the write lock on SQLite."""
    session.execute(update(Purchase).where(Purchase.id == purchase.id).values(id=Purchase.id))
    session.refresh(purchase)


def owe_refund(session: Session, purchase_id: int, reason: str, *, payment_intent: str | None = None) -> bool:
    """Record that this purchase's payment must be returned (the delivery worker makes the refund). Once: the
    first reason stays. A payment intent passed here means the money was just captured (a webhook)."""
    values = dict(refund_reason=reason[:500], failure_reason=reason[:500], claimed_by=None, claimed_until=None,
                  updated_at=utcnow())
    if payment_intent is not None:
        values.update(stripe_payment_intent_id=payment_intent, paid_at=utcnow())
    result = session.exec(
        update(Purchase).where(Purchase.id == purchase_id, col(Purchase.refund_reason).is_(None)).values(**values))
    return result.rowcount == 1


def record_charge(session: Session, *, purchase_id: int, charge_id: str) -> None:
    """The charge that captured the purchase's payment (its intent's `latest_charge`), once known."""
    session.exec(update(Purchase).where(Purchase.id == purchase_id, col(Purchase.stripe_charge_id).is_(None))
                 .values(stripe_charge_id=charge_id[:255]))


def release_reservation(session: Session, purchase: Purchase, *, reason: str,
                        to: PurchaseStatus = PurchaseStatus.expired) -> bool:
    """pending -> expired (or failed) and the work's sale status derived again: a checkout that will not be paid
    frees its work. True when this call made the change (the webhook, the buyer's cancel and a stale reservation
    may race: the guarded transition lets one win and the others change nothing)."""
    if transition(session, purchase.id, from_=(PurchaseStatus.pending,), to=to, failure_reason=reason):
        refresh_item(session, purchase)
        return True
    return False


REFUNDABLE = ("pending", "paid", "expired", "failed")  # a refund owed in these states is made by the delivery worker


def record_refunded(session: Session, *, purchase: Purchase, refund_id: str) -> None:
    """Stripe made the refund owed: recorded once (refunded), and the work's sale status follows."""
    session.exec(update(Purchase).where(Purchase.id == purchase.id).values(refund_id=refund_id))
    if transition(session, purchase.id, from_=REFUNDABLE, to=PurchaseStatus.refunded, refunded_at=utcnow(),
                  claimed_by=None, claimed_until=None):
        refresh_item(session, purchase)


def record_refund_refused(session: Session, *, purchase: Purchase, error: str) -> None:
    """Stripe refused the refund for good: the purchase fails and leaves the refund queue (refund_reason cleared,
    the whole story in failure_reason) for a person to look at, instead of asking Stripe forever."""
    session.exec(update(Purchase).where(Purchase.id == purchase.id).values(refund_reason=None))
    transition(session, purchase.id, from_=REFUNDABLE, to=PurchaseStatus.failed,
               failure_reason=f"{purchase.refund_reason} — refund failed: {error}"[:500])


def refresh_item(session: Session, purchase: Purchase) -> None:
    """After a purchase left its active states: its work's sale status derived again. A call's purchase holds
    nothing but the call's one active checkout (its partial unique index): the call stays awarded, payable again."""
    if purchase.work_id is not None:
        refresh_sale_status(session, purchase.work_id)


def refresh_sale_status(session: Session, work_id: int) -> None:
    """Derive the work's sale status from its active purchases (sold > reserved > available). A work of several
    editions: its counters too, counted with its row locked (catalog_service.lock_work), so the last of
    concurrent changes counts them all."""
    edition = session.exec(select(Work.edition_size).where(Work.id == work_id)).one() > 1
    if edition:
        catalog_service.lock_work(session, work_id=work_id)
    active = session.exec(select(Purchase.status).where(  # a resale holds its listing, not the work
        Purchase.work_id == work_id, col(Purchase.status).in_(ACTIVE_STATUSES),
        Purchase.kind == PurchaseKind.primary)).all()
    if edition:
        sold = active.count(PurchaseStatus.delivered.value)
        catalog_service.set_edition_counts(session, work_id, sold=sold, reserved=len(active) - sold)
        return
    status = SaleStatus.sold if "delivered" in active else SaleStatus.reserved if active else SaleStatus.available
    work = session.get(Work, work_id) if status == SaleStatus.available else None
    if work is not None and catalog_service.token_left_custody(session, work):
        status = SaleStatus.withdrawn  # its token went elsewhere meanwhile: nobody can buy it here
    catalog_service.set_sale_status(session, work_id, status)


def free_edition(session: Session, work: Work) -> int | None:
    """The lowest edition number of the work that no active purchase holds (None: sold out). Read it with the
    work's row locked (checkout does) so that no other checkout takes it before this one's reservation commits."""
    held = set(session.exec(select(Purchase.edition_number).where(
        Purchase.work_id == work.id, col(Purchase.status).in_(ACTIVE_STATUSES),
        col(Purchase.edition_number).is_not(None))).all())
    return next((number for number in range(1, work.edition_size + 1) if number not in held), None)


def split_amount(amount_cents: int, fee_bps: int) -> tuple[int, int]:
    """(creators, platform) in integer cents; the fee is rounded down, so the creators never lose a cent to rounding."""
    fee = fee_of(amount_cents, fee_bps)
    return amount_cents - fee, fee


Shares = list[tuple[int, int]]  # (account id, basis points), summing to 10,000; the uploader first


def _sale_rows(purchase: Purchase, shares: Shares, fee_bps: int) -> list[tuple[LedgerEntryType, int | None, int]]:
    """A sale's ledger rows: (type, account, cents): each creator's part by share (core.money.allocate: largest
    remainder, ties to the uploader), and the platform's fee. The rows sum to the amount paid."""
    creators_cents, fee_cents = split_amount(purchase.amount_cents, fee_bps)
    return [*((LedgerEntryType.sale_creator, account_id, cents)
              for account_id, cents in allocate(creators_cents, shares)),
            (LedgerEntryType.sale_platform_fee, None, fee_cents)]


def _entry(purchase: Purchase, entry_type: LedgerEntryType, account_id: int | None, cents: int) -> dict:
    return {"purchase_id": purchase.id, "work_id": purchase.work_id, "account_id": account_id,
            "entry_type": entry_type.value, "amount_cents": cents, "currency": purchase.currency}


def book_sale(session: Session, *, purchase: Purchase, shares: Shares, fee_bps: int) -> None:
    """Record each creator's earnings and the platform fee for a delivered sale, once (unique per purchase, type and
    account)."""
    _book(session, purchase, _sale_rows(purchase, shares, fee_bps))


def record_call_paid(session: Session, *, purchase: Purchase, fee_bps: int, sender: Sender | None = None) -> None:
    """A call's budget was paid (the webhook, in its transaction): each member of the awarded team is credited
    their share of it minus the platform fee (split like a sale's: core.money.allocate, the author first), and the
    call becomes `paid`. Nothing is delivered on chain for a call. With a `sender`: the caller's receipt and a
    notice to each member, in the same transaction."""
    shares = calls_service.team_shares(session, purchase.call_id)
    book_sale(session, purchase=purchase, shares=shares, fee_bps=fee_bps)
    if calls_service.record_paid(session, call_id=purchase.call_id) and sender is not None:
        title = calls_service.get_call(session=session, call_id=purchase.call_id).title
        params = {"title": title, "amount_cents": purchase.amount_cents, "currency": purchase.currency,
                  "purchase_id": purchase.id, "call_id": purchase.call_id}
        lifecycle.notify_accounts(
            session, account_ids=[purchase.buyer_id], kind="receipt", sender=sender, params=params,
            link=f"/purchases/{purchase.id}/receipt",
            subject=_("Your payment for the call “%(title)s” is received"),
            text=_("Your payment of %(amount)s for the call “%(title)s” is received: the team is paid its shares "
                   "and delivers the work. Your receipt:"))
        lifecycle.notify_accounts(
            session, account_ids=[account_id for account_id, _bps in shares], kind="call_paid", sender=sender,
            params=params, link=f"/calls/{purchase.call_id}",
            subject=_("The call “%(title)s” is paid"),
            text=_("The call “%(title)s” is paid (%(amount)s): your share is credited. Deliver the team's work "
                   "from the call's page."))


def record_call_refunded(session: Session, *, purchase: Purchase) -> None:
    """A paid call's payment was refunded: the team's credits and the fee are reversed, the call is awarded
    again (a delivered call stays delivered)."""
    book_refund_reversal(session, purchase=purchase)
    calls_service.record_refunded(session, call_id=purchase.call_id)


def book_refund_reversal(session: Session, *, purchase: Purchase) -> None:
    """Reverse a delivered sale's entries after a refund, each creator's and the fee's (only what was booked)."""
    reversal = {LedgerEntryType.sale_creator.value: LedgerEntryType.refund_creator,
                LedgerEntryType.sale_platform_fee.value: LedgerEntryType.refund_platform_fee,
                LedgerEntryType.resale_seller.value: LedgerEntryType.refund_seller,
                LedgerEntryType.royalty_creator.value: LedgerEntryType.refund_royalty}
    booked = session.exec(select(LedgerEntry).where(
        LedgerEntry.purchase_id == purchase.id,
        col(LedgerEntry.entry_type).in_(tuple(reversal))).order_by(col(LedgerEntry.id))).all()
    _book(session, purchase, [(reversal[entry.entry_type], entry.account_id, -entry.amount_cents)
                              for entry in booked])


def mark_delivered_many(session: Session, sales: list[tuple[Purchase, Work, str | None]], *, fee_bps: int,
                        now: datetime, sender: Sender | None = None,
                        royalties: dict[int, int] | None = None) -> list[int]:
    """paid -> delivered for many (purchase, work, delivery tx hash) at once: the guarded transition, each work's
    new owner, each sale booked. A few statements per call rather than ~10 per sale, so the write lock (SQLite's
    one writer) is held for milliseconds. Returns the ids this call moved; the others were no longer paid.

    A resale (kind `resale`) is booked by core.money.resale_split with its royalty in cents from `royalties`
    (purchase id -> what the token's royaltyInfo says for its price, read from the chain by the delivery worker),
    and the settled hooks hear of it (its listing sold)."""
    by_tx: dict[str | None, list[int]] = defaultdict(list)
    for purchase, _work, tx_hash in sales:
        by_tx[tx_hash].append(purchase.id)
    moved: set[int] = set()
    for tx_hash, ids in by_tx.items():
        moved.update(transition_many(session, ids, from_=(PurchaseStatus.paid,), to=PurchaseStatus.delivered,
                                     delivery_tx_hash=tx_hash, delivered_at=now, claimed_by=None, claimed_until=None,
                                     last_error=None, updated_at=now))
    mine = [(purchase, work) for purchase, work, _ in sales if purchase.id in moved]
    if not mine:
        return []
    resold = [(purchase, work) for purchase, work in mine if purchase.kind == PurchaseKind.resale]
    if resold:
        _resales_delivered(session, resold, fee_bps=fee_bps, royalties=royalties or {}, sender=sender)
        mine = [(purchase, work) for purchase, work in mine if purchase.kind != PurchaseKind.resale]
        if not mine:
            return sorted(moved)
    catalog_service.record_sales(session, [(work.id, purchase.wallet_address, purchase.amount_cents)
                                           for purchase, work in mine if purchase.edition_number is None], now=now)
    for work_id in sorted({work.id for purchase, work in mine if purchase.edition_number is not None}):
        refresh_sale_status(session, work_id)  # in id order: concurrent deliveries lock the works alike
    shares = catalog_service.creator_shares(session, [work for _, work in mine])
    entries = [{**_entry(purchase, *row), "created_at": now}
               for purchase, work in mine for row in _sale_rows(purchase, shares[work.id], fee_bps)]
    try:
        with session.begin_nested():
            session.execute(insert(LedgerEntry.__table__), entries)  # one executemany (ORM insert: one per row)
    except IntegrityError:  # a sale already booked (cannot happen after paid -> delivered, but never twice)
        for purchase, work in mine:
            book_sale(session, purchase=purchase, shares=shares[work.id], fee_bps=fee_bps)
    if sender is not None:  # in the same transaction: the notices exist if and only if the sale does
        for purchase, work in mine:
            notify_sale(session, purchase=purchase, work=work, creator_ids=[a for a, _ in shares[work.id]],
                        sender=sender)
    return sorted(moved)


def _resales_delivered(session: Session, resold: list[tuple[Purchase, Work]], *, fee_bps: int,
                       royalties: dict[int, int], sender: Sender | None) -> None:
    """Delivered resales: a unique work's owner follows, each booked (seller, each creator's royalty, the fee), the
    settled hooks told (the listing sold), and the buyer, the seller and the creators told (notify_resale)."""
    shares = catalog_service.creator_shares(session, [work for _, work in resold])
    for purchase, work in resold:
        if purchase.edition_number is None and str(work.token_id) == str(purchase.token_id):
            catalog_service.set_owner(session, work_id=work.id, owner=purchase.wallet_address)
        rows = resale_rows(purchase, shares[work.id], fee_bps, royalties.get(purchase.id, 0))
        _book(session, purchase, rows)  # once: unique per purchase, type and account
        run_settled_hooks(session, purchase, DELIVERED)
        if sender is not None:  # in the same transaction, like a first sale's
            notify_resale(session, purchase=purchase, work=work, rows=rows, sender=sender)


def resale_rows(purchase: Purchase, shares: Shares, fee_bps: int,
                royalty_cents: int) -> list[tuple[LedgerEntryType, int | None, int]]:
    """A resale's ledger rows (core.money.resale_split): the seller's part, each creator's part of the royalty by
    share, the platform's fee. The rows sum to the amount paid."""
    seller, parts, fee = resale_split(purchase.amount_cents, royalty_cents, fee_bps, shares)
    return [(LedgerEntryType.resale_seller, purchase.seller_id, seller),
            *((LedgerEntryType.royalty_creator, account_id, cents) for account_id, cents in parts if cents),
            (LedgerEntryType.sale_platform_fee, None, fee)]


def _notify_receipt(session: Session, *, purchase: Purchase, work: Work, sender: Sender) -> dict:
    """The buyer's receipt of a delivered work (a first sale or a resale alike): a notice linking its receipt page.
    Returns the sale's notice values, for the other notices of the same sale."""
    params = {"title": work.title, "amount_cents": purchase.amount_cents, "currency": purchase.currency,
              "purchase_id": purchase.id, "work_id": work.id}
    lifecycle.notify_accounts(
        session, account_ids=[purchase.buyer_id], kind="receipt", sender=sender, params=params,
        link=f"/purchases/{purchase.id}/receipt",
        subject=_("Your purchase of “%(title)s” is delivered"),
        text=_("Your purchase of “%(title)s” (%(amount)s) is delivered: the token is in your wallet. Your receipt:"))
    return params


def notify_sale(session: Session, *, purchase: Purchase, work: Work, creator_ids: list[int], sender: Sender) -> None:
    """The buyer's receipt (the purchase delivered, a link to its receipt page) and a sale notice to each creator."""
    params = _notify_receipt(session, purchase=purchase, work=work, sender=sender)
    lifecycle.notify_accounts(
        session, account_ids=creator_ids, kind="sale", sender=sender, params=params, link=f"/works/{work.id}",
        subject=_("You sold “%(title)s”"),
        text=_("“%(title)s” was sold for %(amount)s and delivered to its buyer."))


def notify_resale(session: Session, *, purchase: Purchase, work: Work,
                  rows: list[tuple[LedgerEntryType, int | None, int]], sender: Sender) -> None:
    """A delivered resale: the buyer's receipt, the seller's notice with what is credited to them, and each
    creator's notice of their royalty (those whose royalty rounded to 0 cents are not told of nothing)."""
    params = _notify_receipt(session, purchase=purchase, work=work, sender=sender)
    for entry_type, account_id, cents in rows:
        if account_id is None:
            continue
        if entry_type == LedgerEntryType.resale_seller:
            lifecycle.notify_accounts(
                session, account_ids=[account_id], kind="resale", sender=sender,
                link="/studio/payouts",  # the payouts page, where a seller's credits are paid out
                params={**params, "credit_cents": cents},
                subject=_("You resold “%(title)s”"),
                text=_("“%(title)s” was resold for %(amount)s and delivered to its buyer: %(credit)s is credited to "
                       "you, after the creators' royalty and the platform's fee."))
        elif entry_type == LedgerEntryType.royalty_creator:
            lifecycle.notify_accounts(
                session, account_ids=[account_id], kind="royalty", sender=sender, link=f"/works/{work.id}",
                params={**params, "royalty_cents": cents},
                subject=_("A royalty for “%(title)s”"),
                text=_("“%(title)s” was resold for %(amount)s: your royalty of %(royalty)s is credited to you."))


def _book(session: Session, purchase: Purchase, rows) -> None:
    for entry_type, account_id, cents in rows:
        exists = session.exec(select(LedgerEntry.id).where(
            LedgerEntry.purchase_id == purchase.id, LedgerEntry.entry_type == entry_type.value,
            LedgerEntry.account_id == account_id if account_id is not None
            else col(LedgerEntry.account_id).is_(None))).first()
        if exists is not None:
            continue
        try:
            with session.begin_nested():
                session.add(LedgerEntry(**_entry(purchase, entry_type, account_id, cents)))
        except IntegrityError:  # booked concurrently: the unique index keeps it once
            pass


def unbook_sale(session: Session, *, purchase_id: int) -> None:
    """Remove a sale's booking when its delivery is undone (the chain lost it) before any refund: the purchase is
    paid again, not sold, and is booked anew when it is delivered again (still once: unique per purchase, type and
    account)."""
    session.exec(delete(LedgerEntry).where(
        LedgerEntry.purchase_id == purchase_id,
        col(LedgerEntry.entry_type).in_(SALE_TYPES)))


SALE_TYPES = (LedgerEntryType.sale_creator.value, LedgerEntryType.sale_platform_fee.value,
              LedgerEntryType.resale_seller.value, LedgerEntryType.royalty_creator.value)


def balance_cents(*, session: Session, account_id: int | None) -> int:
    """What the account has earned: the sum of its ledger entries (each co-created sale's share included)."""
    rows = session.exec(select(LedgerEntry.amount_cents).where(LedgerEntry.account_id == account_id)).all()
    return sum(rows)


def ledger_of(*, session: Session, account_id: int, page: int, page_size: int) -> tuple[list[LedgerEntryPublic], int]:
    """One page of the account's ledger entries, newest first, each with what it was earned from (a work's title,
    or a call's for a team's share of its budget), and how many there are."""
    mine = LedgerEntry.account_id == account_id
    count = session.exec(select(func.count()).select_from(LedgerEntry).where(mine)).one()
    rows = session.exec(
        select(LedgerEntry, Work.title, Purchase.call_id)
        .join(Purchase, col(LedgerEntry.purchase_id) == col(Purchase.id))
        .outerjoin(Work, col(LedgerEntry.work_id) == col(Work.id)).where(mine)
        .order_by(col(LedgerEntry.created_at).desc(), col(LedgerEntry.id).desc())
        .offset((page - 1) * page_size).limit(page_size)).all()
    call_titles = calls_service.titles(session=session, call_ids={call_id for *_, call_id in rows if call_id})
    return [LedgerEntryPublic(id=entry.id, work_id=entry.work_id, work_title=title, call_id=call_id,
                              call_title=call_titles.get(call_id), purchase_id=entry.purchase_id,
                              entry_type=entry.entry_type, amount_cents=entry.amount_cents, currency=entry.currency,
                              created_at=entry.created_at) for entry, title, call_id in rows], count


@dataclass
class Sale:
    """One sale on a creator's page: what the buyer paid and what the creator earned from it (after a refund: 0).
    A work's sale names the work; a call's budget paid to the creator's team names the call."""

    purchase_id: int
    work_id: int | None
    title: str
    status: str
    amount_cents: int
    currency: str
    earned_cents: int
    created_at: datetime
    call_id: int | None = None


def creator_sales(*, session: Session, creator_id: int) -> list[Sale]:
    """Purchases of the works this creator uploaded or co-created that got paid (or were paid and refunded), and
    the budgets of the calls their team was paid for, newest first."""
    co_created = select(WorkCollaborator.work_id).where(WorkCollaborator.account_id == creator_id)
    rows = session.exec(
        select(Purchase, Work)
        .join(Work, col(Purchase.work_id) == col(Work.id))
        .where(or_(Work.creator_id == creator_id, col(Work.id).in_(co_created)),
               col(Purchase.status).in_(("paid", "delivered", "refunded")))
        .order_by(col(Purchase.id).desc())
    ).all()
    earned: dict[int, int] = {}
    for entry in session.exec(select(LedgerEntry).where(
            LedgerEntry.account_id == creator_id,
            col(LedgerEntry.entry_type).in_((LedgerEntryType.sale_creator.value, LedgerEntryType.refund_creator.value,
                                             LedgerEntryType.royalty_creator.value,
                                             LedgerEntryType.refund_royalty.value)))).all():
        earned[entry.purchase_id] = earned.get(entry.purchase_id, 0) + entry.amount_cents
    sales = [Sale(purchase_id=p.id, work_id=w.id, title=w.title, status=p.status, amount_cents=p.amount_cents,
                  currency=p.currency, earned_cents=earned.get(p.id, 0), created_at=p.paid_at or p.created_at)
             for p, w in rows]
    # a team member's share of a call's budget: the calls whose purchases credited them
    budgets = session.exec(select(Purchase).where(col(Purchase.id).in_(list(earned)),
                                                  col(Purchase.call_id).is_not(None))).all() if earned else []
    titles = calls_service.titles(session=session, call_ids={p.call_id for p in budgets})
    sales += [Sale(purchase_id=p.id, work_id=None, call_id=p.call_id, title=titles.get(p.call_id, ""),
                   status=p.status, amount_cents=p.amount_cents, currency=p.currency, earned_cents=earned[p.id],
                   created_at=p.paid_at or p.created_at) for p in budgets]
    return sorted(sales, key=lambda sale: sale.purchase_id, reverse=True)


def delivered_edition(*, session: Session, token_id: int) -> Purchase | None:
    """The delivered purchase of an edition by its token id (the certificate of an edition's token)."""
    return session.exec(select(Purchase).where(Purchase.token_id == str(token_id), col(Purchase.edition_number)
                                               .is_not(None), Purchase.status == PurchaseStatus.delivered)).first()


def held_editions(*, session: Session, account: Account) -> list[tuple[Work, Account, Purchase]]:
    """The editions whose token the account's wallet (custodial or linked) holds according to the chain index, with
    their works and creators, the latest arrival first (an edition is its own token: the work has none)."""
    token_ids = [str(t) for t in indexer_service.tokens_of(session, own_wallets.holding_addresses(session=session, account=account))]
    if not token_ids:
        return []
    rows = session.exec(
        select(Work, Account, Purchase).join(Work, col(Purchase.work_id) == col(Work.id))
        .join(Account, col(Work.creator_id) == col(Account.id))
        .where(col(Purchase.token_id).in_(token_ids), col(Purchase.edition_number).is_not(None),
               Purchase.status == PurchaseStatus.delivered)).all()
    order = {token_id: n for n, token_id in enumerate(token_ids)}
    return sorted(rows, key=lambda row: order[row[2].token_id])


def purchases_with_works(*, session: Session, buyer_id: int) -> list[tuple[Purchase, Work]]:
    """A buyer's purchases with their works, newest first."""
    return list(session.exec(
        select(Purchase, Work).join(Work, col(Purchase.work_id) == col(Work.id))
        .where(Purchase.buyer_id == buyer_id).order_by(col(Purchase.id).desc())
    ).all())


def to_public(purchase: Purchase) -> PurchasePublic:
    return PurchasePublic(
        **purchase.model_dump(exclude={"token_id"}),
        token_id=int(purchase.token_id) if purchase.token_id else None,
    )


# ------------------------------------------------------------------- the chain watcher's changes (chainwatch)
def record_delivery_block(session: Session, *, purchase_ids: list[int], block_number: int, block_hash: str | None,
                          tx_hash: str) -> None:
    """Where deliveries are on chain (re-verified until deep enough), and in which transaction."""
    session.exec(update(Purchase).where(col(Purchase.id).in_(purchase_ids), Purchase.status == PurchaseStatus.delivered)
                 .values(delivery_block_number=block_number, delivery_block_hash=block_hash, delivery_tx_hash=tx_hash))


def return_to_delivery(session: Session, *, purchase_id: int, tx_hash: str | None, owner: str | None,
                       reason: str) -> bool:
    """The chain no longer holds this delivery: the purchase is `paid` again with no delivery transaction (fresh
    attempts) and its sale unbooked, so the delivery worker sends it again. It stays the work's active purchase (the
    partial unique index counts paid and delivered alike), so nobody else can buy the work meanwhile. Never twice:
    the token leaves the custody wallet once. `owner`: who holds the token on chain now (None: nobody, the work is
    minting again). Guarded on the delivery it undoes; True when this call made the change."""
    now = utcnow()
    same_tx = Purchase.delivery_tx_hash == tx_hash if tx_hash else col(Purchase.delivery_tx_hash).is_(None)
    moved = session.exec(
        update(Purchase).where(Purchase.id == purchase_id, Purchase.status == PurchaseStatus.delivered, same_tx)
        .values(status=PurchaseStatus.paid, delivery_tx_hash=None, delivery_nonce=None, delivery_submitted_at=None,
                delivery_attempts=0, delivery_block_number=None, delivery_block_hash=None, seller_address=None,
                delivered_at=None, claimed_by=None, claimed_until=None, last_error=reason[:500], updated_at=now)
    ).rowcount
    if not moved:
        return False
    purchase = session.get(Purchase, purchase_id)
    unbook_sale(session, purchase_id=purchase_id)
    if owner is not None and purchase.edition_number is None:  # an edition's token is not the work's
        catalog_service.set_owner(session, work_id=purchase.work_id, owner=owner)
    refresh_sale_status(session, purchase.work_id)
    log.warning("purchase %s: its delivery is gone from the chain; delivering it again", purchase_id)
    return True
