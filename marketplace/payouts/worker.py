"""The payout worker: creator ledger entries -> Stripe transfers and transfer reversals, exactly once.

The delivery worker's discipline on the shared job helper: each ledger entry first gets its payout row (enqueue);
a claimed row is written ahead (what goes through Stripe, a fresh attempt number) and committed before Stripe is
asked, with an idempotency key derived from the row and its attempt. A worker killed after Stripe answered leaves
the row `sending`: when its lease has passed, a worker asks again with the same key and Stripe returns the same
transfer, so there is one, never two. Reversals are looked at before transfers, so a refund inside the hold window
cancels the credit's transfer instead of reversing it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from marketplace.core import db
from marketplace.core.db import utcnow
from marketplace.core.exceptions import ServiceUnavailable
from marketplace.core.money import reverse_by_shares, transfer_after_debt
from marketplace.integrations.stripe.gateway import PaymentProviderError, StripeGateway
from marketplace.jobs import lease
from marketplace.jobs.runner import BackgroundWorker
from marketplace.mail.outbox import Sender
from marketplace.payments import service as payments_service
from marketplace.payments.models import Purchase
from marketplace.payouts import service as payouts_service
from marketplace.payouts.models import Payout, PayoutAccount, PayoutStatus

log = logging.getLogger(__name__)
ERROR_HOLD_S = 1.0


class PayoutWorker(BackgroundWorker):
    kind = payouts_service.PAYOUT_WORKER

    def __init__(self, *, gateway: StripeGateway, hold_days: int = 0, sender: Sender | None = None,
                 **settings) -> None:
        super().__init__(**settings)  # batch_size, max_attempts, lease_s, retry_backoff_s, ...
        self.gateway = gateway
        self.hold_days = hold_days
        self.sender = sender  # who mails the creators' payout notices (none: no notices)

    def run_once(self) -> int:
        try:
            with db.session_scope() as session:
                queued = payouts_service.enqueue(session, hold_days=self.hold_days)
                session.commit()
        except IntegrityError:  # another worker wrote the same rows first (unique per entry): theirs stand
            queued = 0
        return queued + self.reverse_batch() + self.transfer_batch()

    # ------------------------------------------------------------ claims
    def _claim(self, ready) -> list[Payout]:
        with db.session_scope() as session:
            claimed = lease.claim(session, Payout.__table__, ready=ready, worker=self.name, lease=self.lease,
                                  limit=self.batch_size, entity=Payout)
            session.commit()
        return claimed

    def _release(self, payout_id: int, error: str | None = None) -> None:
        """Let the claim go: at once when there is nothing to do yet, after ERROR_HOLD_S when it failed (Stripe
        unreachable, an unexpected error), so a failing row is not retried in a tight loop."""
        with db.session_scope() as session:
            extra = {"last_error": error[:500], "hold": timedelta(seconds=ERROR_HOLD_S)} if error else {}
            lease.release(session, Payout.__table__, [payout_id], worker=self.name, **extra)
            session.commit()

    # ------------------------------------------------------------ transfers
    def transfer_batch(self) -> int:
        claimed = self._claim(payouts_service.ready_transfers_condition(utcnow()))
        for payout in claimed:
            try:
                self._transfer(payout)
            except ServiceUnavailable as exc:
                log.warning("payout %s postponed: %s", payout.id, exc.message)
                self._release(payout.id, exc.message)
            except Exception as exc:  # never strand the rest of the batch
                log.exception("payout %s failed", payout.id)
                self._release(payout.id, f"unexpected error: {exc}")
        return len(claimed)

    def _transfer(self, payout: Payout) -> None:
        with db.session_scope() as session:
            purchase = session.get(Purchase, payout.purchase_id)
            destination = session.exec(select(PayoutAccount.stripe_account_id).where(
                PayoutAccount.account_id == payout.account_id)).one()
            charge = purchase.stripe_charge_id
        if charge is None and purchase.stripe_payment_intent_id:
            charge = self.gateway.latest_charge(purchase.stripe_payment_intent_id)
            if charge:
                with db.session_scope() as session:
                    payments_service.record_charge(session, purchase_id=purchase.id, charge_id=charge)
                    session.commit()
        if payout.status == PayoutStatus.pending:  # a fresh attempt: fix the amount, then ask Stripe
            with db.session_scope() as session:
                payouts_service.lock_account(session, payout.account_id)  # one debt reading at a time
                cents = transfer_after_debt(max(payout.amount_cents, 0),
                                            payouts_service.owed_cents(session, payout.account_id))
                status = PayoutStatus.sending if cents > 0 else PayoutStatus.offset
                if not payouts_service.write_ahead(session, payout.id, worker=self.name, stripe_cents=cents,
                                                   status=status, fresh=True):
                    return  # the claim was lost: another worker has it
                session.commit()
                payout = session.get(Payout, payout.id)
                session.expunge(payout)
            if status == PayoutStatus.offset:
                log.info("payout %s: %s cents paid a debt, nothing to transfer", payout.id, payout.amount_cents)
                return
        try:
            transfer_id = self.gateway.create_transfer(
                amount_cents=payout.stripe_cents, currency=payout.currency, destination=destination,
                transfer_group=f"purchase-{payout.purchase_id}", source_transaction=charge,
                idempotency_key=payout.idempotency_key,
                metadata={"payout_id": str(payout.id), "purchase_id": str(payout.purchase_id),
                          "account_id": str(payout.account_id)})
        except PaymentProviderError as exc:
            with db.session_scope() as session:
                payouts_service.record_refused(session, payout, error=exc.message,
                                               retry=payout.attempts < self.max_attempts)
                session.commit()
            log.warning("payout %s refused by Stripe: %s", payout.id, exc.message)
            return
        with db.session_scope() as session:
            payouts_service.record_sent(session, payout, stripe_id=transfer_id, sender=self.sender)
            session.commit()
        log.info("payout %s: %s cents to %s (%s)", payout.id, payout.stripe_cents, destination, transfer_id)

    # ------------------------------------------------------------ reversals
    def reverse_batch(self) -> int:
        claimed = self._claim(payouts_service.ready_reversals_condition())
        for payout in claimed:
            try:
                self._reverse(payout)
            except ServiceUnavailable as exc:
                log.warning("reversal %s postponed: %s", payout.id, exc.message)
                self._release(payout.id, exc.message)
            except Exception as exc:
                log.exception("reversal %s failed", payout.id)
                self._release(payout.id, f"unexpected error: {exc}")
        return len(claimed)

    def _reverse(self, payout: Payout) -> None:
        with db.session_scope() as session:
            transfer = payouts_service.transfer_of(session, payout.purchase_id, payout.account_id)
            if transfer is None or transfer.status == PayoutStatus.sending:
                self._release(payout.id)  # the transfer is not there yet, or on its way: settle that first
                return
            if transfer.status != PayoutStatus.paid:  # never transferred (or transferred 0): nothing to reverse
                if payouts_service.cancel_pair(session, transfer, payout):
                    session.commit()
                    log.info("payout %s refunded before it was transferred: cancelled", transfer.id)
                else:
                    session.rollback()
                    self._release(payout.id)
                return
            transfer_id = transfer.stripe_transfer_id
            if payout.status == PayoutStatus.pending:
                purchase = session.get(Purchase, payout.purchase_id)
                paid = [(t.account_id, t.stripe_cents or 0) for t in payouts_service.transfers_of_purchase(
                    session, payout.purchase_id) if t.status == PayoutStatus.paid]
                share = dict(reverse_by_shares(purchase.amount_cents, purchase.amount_cents, paid))
                cents = share.get(payout.account_id, 0)
                if not payouts_service.write_ahead(session, payout.id, worker=self.name, stripe_cents=-cents,
                                                   status=PayoutStatus.sending, fresh=True):
                    return
                session.commit()
                payout = session.get(Payout, payout.id)
                session.expunge(payout)
        try:
            reversal_id = self.gateway.reverse_transfer(
                transfer_id=transfer_id, amount_cents=-payout.stripe_cents, idempotency_key=payout.idempotency_key,
                metadata={"payout_id": str(payout.id), "purchase_id": str(payout.purchase_id)})
        except PaymentProviderError as exc:
            with db.session_scope() as session:
                payouts_service.record_refused(session, payout, error=exc.message, retry=False)
                session.commit()
            log.warning("reversal %s refused by Stripe (the creator owes it): %s", payout.id, exc.message)
            return
        with db.session_scope() as session:
            payouts_service.record_sent(session, payout, stripe_id=reversal_id)
            session.commit()

