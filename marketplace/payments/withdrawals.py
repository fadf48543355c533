"""Withdrawals: a token moved from its holder's custody wallet to one of their linked wallets, exactly once.

POST /api/tokens/{token_id}/withdraw records a `token_withdrawal` row (status `pending`; a partial unique index
keeps one pending per token: a second request meanwhile is a Conflict). The delivery worker sends it as it sends a
resale's delivery: signed with the custody key (derived from WALLET_SECRET), the transaction hash written ahead
on the row before it is sent, settled from its receipt, or after a crash from the chain (`ownerOf`). The rows'
guarded state changes live here; the worker's chain steps in payments/delivery.py.

A withdrawal and what else may move the token take the token's work row first (catalog_service.lock_work: a row
lock on PostgreSQL, SQLite's one writer), then check and write in that one transaction: a resale listing being
made, a buyer's checkout (pending or paid) of the token, or another withdrawal. The creator's unique work still on
sale leaves the sale (`withdrawn`) in the withdrawal's own transaction, and is back on sale if it fails. The worker
checks again before signing: a withdrawal whose token a buyer's purchase holds fails, it is not sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from eth_utils import is_address, to_checksum_address
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts import own_wallets
from marketplace.accounts.models import Account
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import SaleStatus, Work
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Conflict, Forbidden, InvalidInput
from marketplace.jobs.runner import wake
from marketplace.payments.models import Purchase, PurchaseStatus, TokenWithdrawal, WithdrawalStatus
from marketplace.payments.webhooks import DELIVERY_WORKER

TABLE = TokenWithdrawal.__table__
PENDING = "A withdrawal of this token is under way already"
ON_SALE = ("A buyer's checkout of this token is open or paid: it can be withdrawn once that purchase is delivered "
           "or has ended")
MOVING = "This token is on its way to its holder's own wallet: it is not for sale"
DELETED = "Cancelled: the account was deleted before it was sent"


def request_withdrawal(*, session: Session, account: Account, token_id: int, to_address: str,
                       owner: str | None, work: Work,
                       still_free: Callable[[Session], None] = lambda session: None) -> TokenWithdrawal:
    """Queue the move of `token_id` (which the chain says `owner` holds; a token of `work`) to `to_address`.
    InvalidInput (422): not one of the account's linked wallets; Forbidden: the account's custody wallet does not
    hold it; Conflict: a withdrawal of the token is pending already, or a buyer's purchase of it is pending or paid.
    `still_free` is the caller's own check under the work's lock (marketplace.resale: an active listing; it
    raises Conflict). The unsold unique work of this token leaves the sale (`withdrawn`) in the same transaction."""
    if not is_address(to_address):
        raise InvalidInput("to_address is not a valid Ethereum address", loc=("body", "to_address"))
    to_address = to_checksum_address(to_address)
    if to_address not in own_wallets.linked_addresses(session=session, account_id=account.id):
        raise InvalidInput("to_address must be one of your linked wallets (GET /api/me/wallets)",
                           loc=("body", "to_address"))
    custody = account.custodial_address
    if owner is None or not custody or owner.lower() != custody.lower():
        raise Forbidden("Your custody wallet does not hold this token")
    catalog_service.lock_work(session, work_id=work.id)
    try:
        still_free(session)
        if pending_of(session, str(token_id)) is not None:
            raise Conflict(PENDING)
        if open_purchase_of(session, str(token_id)) is not None:
            raise Conflict(ON_SALE)
    except Conflict:
        session.rollback()
        raise
    row = TokenWithdrawal(account_id=account.id, token_id=str(token_id), from_address=custody, to_address=to_address)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # asked twice at once: the partial unique index keeps one
        session.rollback()
        raise Conflict(PENDING) from None
    if work.token_id == str(token_id):
        catalog_service.withdraw(session, work.id)  # its creator's unique work, unsold: off sale
    session.commit()
    session.refresh(row)
    wake(DELIVERY_WORKER)
    return row


def pending_of(session: Session, token_id: str) -> TokenWithdrawal | None:
    return session.exec(select(TokenWithdrawal).where(TokenWithdrawal.token_id == token_id,
                                                      TokenWithdrawal.status == WithdrawalStatus.pending)).first()


def open_purchase_of(session: Session, token_id: str) -> Purchase | None:
    """A buyer's purchase, pending (checkout open) or paid (not delivered yet), of this token: a resale's, or the
    first sale of the unique work it is the token of."""
    return session.exec(select(Purchase).where(
        col(Purchase.status).in_((PurchaseStatus.pending.value, PurchaseStatus.paid.value)),
        or_(Purchase.token_id == token_id,
            col(Purchase.work_id).in_(select(Work.id).where(Work.token_id == token_id, Work.edition_size == 1))),
    )).first()


def blocks_sale(session: Session, token_id: str | None) -> str | None:
    """Why a checkout of this token is refused now (a withdrawal of it is pending), or None."""
    return MOVING if token_id is not None and pending_of(session, str(token_id)) is not None else None


def cancel_pending_of_account(session: Session, account_id: int) -> int:
    """Account deletion: the account's withdrawals not sent yet (no transaction written ahead) are cancelled, in
    the caller's transaction; one sent already settles as it is. Returns how many."""
    return session.execute(update(TABLE).where(
        TABLE.c.account_id == account_id, TABLE.c.status == WithdrawalStatus.pending.value, TABLE.c.tx_hash.is_(None),
    ).values(status=WithdrawalStatus.cancelled.value, claimed_by=None, claimed_until=None, last_error=DELETED,
             updated_at=utcnow())).rowcount


def withdrawals_of(session: Session, account_id: int) -> list[TokenWithdrawal]:
    return list(session.exec(select(TokenWithdrawal).where(TokenWithdrawal.account_id == account_id)
                             .order_by(col(TokenWithdrawal.id).desc())).all())


def record_sent(session: Session, withdrawal_id: int, *, worker: str, tx_hash: str, nonce: int,
                now: datetime) -> bool:
    """The write-ahead step: the signed transaction on the row (still pending, claimed by `worker`, nothing
    recorded yet). False: the claim was lost, the transaction must not be sent."""
    return session.execute(update(TABLE).where(
        TABLE.c.id == withdrawal_id, TABLE.c.claimed_by == worker, TABLE.c.status == WithdrawalStatus.pending.value,
        TABLE.c.tx_hash.is_(None),
    ).values(tx_hash=tx_hash, tx_nonce=nonce, submitted_at=now, attempts=TABLE.c.attempts + 1,
             updated_at=now)).rowcount == 1


def mark(session: Session, withdrawal_id: int, status: WithdrawalStatus, *, tx_hash: str | None = None,
         error: str | None = None) -> bool:
    """pending -> done / failed, once (guarded). Failed: the unique work of the token, withdrawn from sale for it,
    is back on sale while its token is still in its creator's custody wallet."""
    values = {"claimed_by": None, "claimed_until": None, "updated_at": utcnow(), "status": status.value}
    if status == WithdrawalStatus.done:
        values["done_at"] = utcnow()
        if tx_hash:
            values["tx_hash"] = tx_hash
    if error:
        values["last_error"] = error[:500]
    moved = session.execute(update(TABLE).where(TABLE.c.id == withdrawal_id,
                                                TABLE.c.status == WithdrawalStatus.pending.value)
                            .values(**values)).rowcount == 1
    if moved and status == WithdrawalStatus.failed:
        row = session.get(TokenWithdrawal, withdrawal_id)
        work = session.exec(select(Work).where(Work.token_id == row.token_id)).first()
        if work is not None and work.sale_status == SaleStatus.withdrawn and work.creator_id == row.account_id \
                and not catalog_service.token_left_custody(session, work):
            catalog_service.back_on_sale(session, work.id)
    return moved
