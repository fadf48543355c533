"""Read-only views the pages need beyond the domain services (a creator's sales, a wallet's tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from marketplace.accounts.models import Account
from marketplace.catalog.models import Work, WorkStatus
from marketplace.payments.models import LedgerEntry, LedgerEntryType, Purchase


@dataclass
class Sale:
    purchase_id: int
    work_id: int
    title: str
    status: str
    amount_cents: int
    currency: str
    earned_cents: int
    created_at: datetime


def creator_sales(*, session: Session, creator_id: int) -> list[Sale]:
    """Purchases of this creator's works that got paid (or were paid and refunded), newest first."""
    rows = session.exec(
        select(Purchase, Work)
        .join(Work, col(Purchase.work_id) == col(Work.id))
        .where(Work.creator_id == creator_id, col(Purchase.status).in_(("paid", "delivered", "refunded")))
        .order_by(col(Purchase.id).desc())
    ).all()
    earned: dict[int, int] = {}
    for entry in session.exec(select(LedgerEntry).where(
            LedgerEntry.account_id == creator_id,
            col(LedgerEntry.entry_type).in_((LedgerEntryType.sale_creator.value,
                                             LedgerEntryType.refund_creator.value)))).all():
        earned[entry.purchase_id] = earned.get(entry.purchase_id, 0) + entry.amount_cents
    return [Sale(purchase_id=p.id, work_id=w.id, title=w.title, status=p.status, amount_cents=p.amount_cents,
                 currency=p.currency, earned_cents=earned.get(p.id, 0), created_at=p.paid_at or p.created_at)
            for p, w in rows]


def owned_works(*, session: Session, account: Account) -> list[tuple[Work, Account]]:
    """Minted works whose token the account's wallet holds (custodial or linked), with their creators."""
    addresses = [a for a in (account.custodial_address, account.linked_address) if a]
    if not addresses:
        return []
    return list(session.exec(
        select(Work, Account).join(Account, col(Work.creator_id) == col(Account.id))
        .where(Work.status == WorkStatus.minted, col(Work.owner_address).in_(addresses))
        .order_by(col(Work.updated_at).desc(), col(Work.id).desc())
    ).all())


def purchases_with_works(*, session: Session, buyer_id: int) -> list[tuple[Purchase, Work]]:
    return list(session.exec(
        select(Purchase, Work).join(Work, col(Purchase.work_id) == col(Work.id))
        .where(Purchase.buyer_id == buyer_id).order_by(col(Purchase.id).desc())
    ).all())


def work_by_token(*, session: Session, token_id: int) -> Work | None:
    return session.exec(select(Work).where(Work.token_id == str(token_id), Work.status == WorkStatus.minted)).first()


def account_by_address(*, session: Session, address: str | None) -> Account | None:
    if not address:
        return None
    return session.exec(select(Account).where(
        (col(Account.custodial_address) == address) | (col(Account.linked_address) == address))).first()
