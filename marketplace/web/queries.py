"""Read-only views the pages need beyond the domain services (a wallet's tokens, who owns an address)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from marketplace.accounts.models import Account
from marketplace.catalog.models import Work, WorkStatus


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


def work_by_token(*, session: Session, token_id: int) -> Work | None:
    return session.exec(select(Work).where(Work.token_id == str(token_id), Work.status == WorkStatus.minted)).first()


def account_by_address(*, session: Session, address: str | None) -> Account | None:
    if not address:
        return None
    return session.exec(select(Account).where(
        (col(Account.custodial_address) == address) | (col(Account.linked_address) == address))).first()


def holds(*, account: Account | None, work: Work) -> bool:
    """Whether the account's wallet (custodial or linked) holds the work's token."""
    if account is None or work.status != WorkStatus.minted or not work.owner_address:
        return False
    owner = work.owner_address.lower()
    return any(a and a.lower() == owner for a in (account.custodial_address, account.linked_address))
