"""Withdrawals: a token moved from its holder's custody wallet to one of their linked wallets, exactly once.

POST /api/tokens/{token_id}/withdraw records a `token_withdrawal` row (status `pending`; a partial unique index
keeps one pending per token: a second request meanwhile is a Conflict). The delivery worker sends it as it sends a
resale's delivery: signed with the custody key (derived from WALLET_SECRET), the transaction hash written ahead
on the row before it is sent, settled from its receipt, or after a crash from the chain (`ownerOf`). The rows'
guarded state changes live here; the worker's chain steps in payments/delivery.py.
"""

from __future__ import annotations

from datetime import datetime

from eth_utils import is_address, to_checksum_address
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts import own_wallets
from marketplace.accounts.models import Account
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Conflict, Forbidden, InvalidInput
from marketplace.jobs.runner import wake
from marketplace.payments.models import TokenWithdrawal, WithdrawalStatus
from marketplace.payments.webhooks import DELIVERY_WORKER

TABLE = TokenWithdrawal.__table__


def request_withdrawal(*, session: Session, account: Account, token_id: int, to_address: str,
                       owner: str | None) -> TokenWithdrawal:
    """Queue the move of `token_id` (which the chain says `owner` holds) to `to_address`. InvalidInput (422): not one
    of the account's linked wallets; Forbidden: the account's custody wallet does not hold it; Conflict: a withdrawal
    of the token is pending already. (An active listing of the token is refused by the caller, marketplace.resale.)"""
    if not is_address(to_address):
        raise InvalidInput("to_address is not a valid Ethereum address", loc=("body", "to_address"))
    to_address = to_checksum_address(to_address)
    if to_address not in own_wallets.linked_addresses(session=session, account_id=account.id):
        raise InvalidInput("to_address must be one of your linked wallets (GET /api/me/wallets)",
                           loc=("body", "to_address"))
    custody = account.custodial_address
    if owner is None or not custody or owner.lower() != custody.lower():
        raise Forbidden("Your custody wallet does not hold this token")
    if pending_of(session, str(token_id)) is not None:
        raise Conflict("A withdrawal of this token is under way already")
    row = TokenWithdrawal(account_id=account.id, token_id=str(token_id), from_address=custody, to_address=to_address)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # asked twice at once: the partial unique index keeps one
        session.rollback()
        raise Conflict("A withdrawal of this token is under way already") from None
    session.refresh(row)
    wake(DELIVERY_WORKER)
    return row


def pending_of(session: Session, token_id: str) -> TokenWithdrawal | None:
    return session.exec(select(TokenWithdrawal).where(TokenWithdrawal.token_id == token_id,
                                                      TokenWithdrawal.status == WithdrawalStatus.pending)).first()


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
    """pending -> done / failed, once (guarded)."""
    values = {"claimed_by": None, "claimed_until": None, "updated_at": utcnow(), "status": status.value}
    if status == WithdrawalStatus.done:
        values["done_at"] = utcnow()
        if tx_hash:
            values["tx_hash"] = tx_hash
    if error:
        values["last_error"] = error[:500]
    return session.execute(update(TABLE).where(TABLE.c.id == withdrawal_id,
                                               TABLE.c.status == WithdrawalStatus.pending.value)
                           .values(**values)).rowcount == 1
