"""The receipt of a purchase: what the buyer paid, to whom, for what, and the VAT included in the price.

A receipt exists once the payment was received (`paid_at` set; a refunded purchase keeps its receipt, marked
refunded). The sellers are the work's creators (every creator of a co-created work, with their shares), for a
resale the collector who sold the token (the creators, its authors, named with the royalty they receive), or, for a
call's budget, the awarded team; the platform sells on their behalf, as an intermediary. Prices are VAT included:
the VAT line is `core.money.vat_included` of the price at the configured rate (net rounded half up, VAT the rest,
so net + VAT is the price paid to the cent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from marketplace.accounts import service as accounts_service
from marketplace.calls import service as calls_service
from marketplace.catalog import service as catalog_service
from marketplace.core.money import vat_included
from marketplace.payments.models import LedgerEntry, LedgerEntryType, Purchase, PurchaseKind, PurchaseStatus


@dataclass(frozen=True)
class Seller:
    name: str
    role: str
    share_bps: int


@dataclass(frozen=True)
class Receipt:
    purchase_id: int
    number: str  # "R-000042": the purchase id, so one receipt per purchase
    paid_at: datetime
    buyer_name: str
    buyer_email: str
    kind: str  # "work" or "call"
    title: str
    work_id: int | None
    call_id: int | None
    license: str | None
    token_id: int | None
    sellers: list[Seller]
    gross_cents: int  # the price paid, VAT included
    net_cents: int
    vat_cents: int
    vat_rate_bps: int
    currency: str
    refunded: bool
    refunded_at: datetime | None
    consent_at: datetime | None
    consent_text: str | None
    resale: bool = False  # sold by a collector: `sellers` is them alone; `authors` the work's creators
    authors: tuple[str, ...] = ()
    royalty_cents: int | None = None  # a resale's royalty to the authors, once booked (at delivery)


def receipt_number(purchase_id: int) -> str:
    return f"R-{purchase_id:06d}"


def has_receipt(purchase: Purchase) -> bool:
    """Paid at some point (a refund later does not take the receipt back)."""
    return purchase.paid_at is not None or purchase.status in (PurchaseStatus.paid, PurchaseStatus.delivered)


def receipt_of(*, session: Session, purchase: Purchase, vat_rate_bps: int) -> Receipt | None:
    """The purchase's receipt, or None while it has not been paid. The caller checks who may see it
    (payments_service.get_visible_purchase_or_raise)."""
    if not has_receipt(purchase):
        return None
    resale: dict = {}
    buyer = accounts_service.get_account(session=session, account_id=purchase.buyer_id)
    net, vat = vat_included(purchase.amount_cents, vat_rate_bps)
    if purchase.work_id is not None:
        work = catalog_service.get_work_or_raise(session=session, work_id=purchase.work_id)
        creators = catalog_service.creators_of(session, work)
        sellers = [Seller(c.display_name, c.role, c.share_bps) for c in creators]
        token = purchase.token_id or work.token_id
        kind, title, license_ = "work", work.title, work.license
        if purchase.kind == PurchaseKind.resale:
            seller = accounts_service.get_account(session=session, account_id=purchase.seller_id)
            sellers = [Seller(seller.display_name if seller else f"#{purchase.seller_id}", "", 10_000)]
            resale = {"resale": True, "authors": tuple(c.display_name for c in creators),
                      "royalty_cents": _royalty_booked(session, purchase.id)}
    else:
        call = calls_service.get_call_or_raise(session=session, call_id=purchase.call_id)
        sellers = []
        for account_id, bps in calls_service.team_shares(session, call.id):
            member = accounts_service.get_account(session=session, account_id=account_id)
            sellers.append(Seller(member.display_name if member else f"#{account_id}", "", bps))
        token, kind, title, license_ = None, "call", call.title, None
    return Receipt(
        purchase_id=purchase.id, number=receipt_number(purchase.id),
        paid_at=purchase.paid_at or purchase.updated_at,
        buyer_name=buyer.display_name if buyer else "", buyer_email=buyer.email if buyer else "",
        kind=kind, title=title, work_id=purchase.work_id, call_id=purchase.call_id, license=license_,
        token_id=int(token) if token else None, sellers=sellers,
        gross_cents=purchase.amount_cents, net_cents=net, vat_cents=vat, vat_rate_bps=vat_rate_bps,
        currency=purchase.currency, refunded=purchase.status == PurchaseStatus.refunded,
        refunded_at=purchase.refunded_at,
        consent_at=purchase.immediate_supply_consent_at, consent_text=purchase.immediate_supply_consent_text,
        **resale)


def _royalty_booked(session: Session, purchase_id: int) -> int | None:
    """The royalty booked for a resale (its creators' entries summed), None before its delivery booked it."""
    total, rows = session.exec(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0), func.count()).where(
        LedgerEntry.purchase_id == purchase_id,
        LedgerEntry.entry_type == LedgerEntryType.royalty_creator.value)).one()
    if rows:
        return int(total)
    delivered = session.exec(select(func.count()).where(
        LedgerEntry.purchase_id == purchase_id, LedgerEntry.entry_type == LedgerEntryType.resale_seller.value)).one()
    return 0 if delivered else None
