"""The delivery worker: paid purchases -> the token owned by the buyer's wallet, exactly once; owed refunds -> Stripe.

Same discipline as minting: claims are guarded updates with a lease; a delivery's transaction hash is written before
the transaction is sent; after a crash the worker settles from the receipt, or from the chain itself (`ownerOf`),
and only then tries again. Tokens move out of the creator's custodial wallet (key derived on demand from
WALLET_SECRET). A wallet's first delivery is its own `transferBatch` (the platform tops it up with gas money first),
after which it approves the platform signer as its operator: from then on the sales claimed together, of any number
of sellers, go in one `transferBatch` the platform signs and pays for. See deliver_batch.

An edition of a work of several has no token until it is sold: its delivery pins the edition's metadata (the work's,
with its number), records the token id (the metadata digest) on the purchase, and mints that token straight to the
buyer's wallet in one `mintBatch` the platform signs, written ahead like a transfer. mintBatch skips ids that exist,
so neither a retry nor a rewound chain's re-delivery can mint an edition twice. See deliver_editions.

A resale (a purchase of kind `resale`) moves `purchase.token_id` from the seller's custody wallet to the buyer's,
signed by the seller's custody key, alone and written ahead like any delivery. The chain is asked first: a token no
longer in the seller's custody wallet (moved away meanwhile) is not sold: the purchase is refunded and the settled
hooks hear it (its listing withdrawn). See deliver_resales.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from marketplace.catalog.models import Work, WorkStatus
from marketplace.core import db
from marketplace.core.db import get_engine, utcnow
from marketplace.core.exceptions import MarketplaceError, ServiceUnavailable
from marketplace.core.observability import DELIVERY_LATENCY, bound, elapsed_s
from marketplace.integrations.chain.client import (
    APPROVAL_GAS,
    TRANSFER_GAS,
    ZERO_ADDRESS,
    ChainClient,
    MintRequest,
    PreparedTx,
    Signer,
    TxReceipt,
    transfer_gas,
)
from marketplace.integrations.ipfs.client import IpfsClient
from marketplace.integrations.stripe.gateway import PaymentProviderError, StripeGateway
from marketplace.jobs import lease
from marketplace.jobs.runner import BackgroundWorker, nonce_freed_on_error, wake
from marketplace.mail import outbox
from marketplace.mail.outbox import Sender
from marketplace.minting import service as minting_service
from marketplace.payments import service as payments_service
from marketplace.payments import withdrawals
from marketplace.payments.custody import CustodyWallets
from marketplace.payments.models import Purchase, PurchaseKind, PurchaseStatus, TokenWithdrawal, WithdrawalStatus
from marketplace.payments.webhooks import DELIVERY_WORKER

log = logging.getLogger(__name__)


HOLD_S = 1.0  # a purchase whose token is not on chain (yet) is looked at again after this long


class DeliveryWorker(BackgroundWorker):
    kind = DELIVERY_WORKER
    chain_gate = None  # a ChainWatcher (services wire it): no chain writes until it says the chain is ours
    _force_reconcile = False
    _forget_chain = False

    def __init__(
        self,
        *,
        chain: ChainClient,
        gateway: StripeGateway,
        wallet_secret: str,
        fee_bps: int,
        gas_topup_wei: int = 10**16,
        sender: Sender | None = None,
        ipfs: IpfsClient | None = None,
        public_base_url: str = "",
        **settings,
    ) -> None:
        super().__init__(**settings)  # batch_size, max_attempts, lease_s, ...: see BackgroundWorker
        self.sender = sender  # the sale's notices and the buyer's receipt are mailed as it (None: no notices)
        self.chain = chain
        self.ipfs = ipfs  # where editions' metadata is pinned (None: editions cannot be delivered)
        self.public_base_url = public_base_url  # the metadata's external_url
        self._splits_seen: set[str] = set()  # royalty splits known to exist on chain (editions' receivers)
        self.gateway = gateway
        self.fee_bps = fee_bps
        self.custody = CustodyWallets(chain=chain, wallet_secret=wallet_secret, gas_topup_wei=gas_topup_wei,
                                      receipt_timeout_s=self.receipt_timeout_s)

    def run_once(self) -> int:
        if self.chain_gate is not None and not self.chain_gate.writable:
            return self.refund_owed()  # refunds need Stripe, not the chain
        if self._forget_chain:
            self._forget_chain = False
            self.custody.forget_chain()
            self._splits_seen.clear()
        force, self._force_reconcile = self._force_reconcile, False
        try:
            return (self.reconcile_submitted(force=force) + self.reconcile_withdrawals(force=force)
                    + self.deliver_batch() + self.withdraw_batch() + self.refund_owed())
        except Exception:
            self._release_unsent()  # e.g. the chain went away mid-batch: let the claims go now, not at lease end
            raise

    def chain_moved(self) -> None:
        """The chain watcher saw a rewind or an outage: balances and operator approvals read before may be gone,
        and so may the node's mempool (submitted transactions it no longer knows count as lost at once)."""
        self._forget_chain = True
        self._force_reconcile = True
        self.wake()

    # ------------------------------------------------------------ delivery
    def deliver_batch(self) -> int:
        """Claim paid purchases and send them in as few transactions as the custody wallets allow:

        - the sales of every seller whose custody wallet approved the platform signer as operator: one shared
          `transferBatch`, signed (and paid for) by the platform;
        - each other seller's sales: one `transferBatch` from its custody wallet, followed once by that wallet's
          approval of the operator, so its next sales join the shared transaction;
        - a retried purchase alone, from the custody wallet, so one sale that made a batch revert (say, a buyer
          contract that refuses tokens) cannot hold the others back.

        One move is a plain `safeTransferFrom`."""
        purchases = self._claim()
        if not purchases:
            return 0
        with db.session_scope() as session:
            works = {w.id: w for w in session.exec(
                select(Work).where(col(Work.id).in_({p.work_id for p in purchases}))).all()}
        purchases = self._hold_unminted(purchases, works)
        resales = [p for p in purchases if p.kind == PurchaseKind.resale]
        if resales:
            self.deliver_resales(resales, works)
            purchases = [p for p in purchases if p.kind != PurchaseKind.resale]
            if not purchases:
                return len(resales)
        editions = [p for p in purchases if p.edition_number is not None]
        if editions:
            self.deliver_editions(editions, works)
        purchases = [p for p in purchases if p.edition_number is None]
        if not purchases:
            return len(editions)
        shared: list[Purchase] = []
        by_seller: dict[int, list[Purchase]] = {}
        retries: list[list[Purchase]] = []
        may_move: dict[int, bool] = {}  # per seller, asked once per batch
        for purchase in purchases:
            work = works[purchase.work_id]
            if work.creator_id not in may_move:
                may_move[work.creator_id] = self.custody.operator_may_move(self._seller_signer(work).address)
            if purchase.delivery_attempts > 0:
                retries.append([purchase])
            elif may_move[work.creator_id]:
                shared.append(purchase)
            else:
                by_seller.setdefault(work.creator_id, []).append(purchase)
        own_groups = list(by_seller.values()) + retries
        gas_by_seller: dict[int, int] = {}
        for group in own_groups:
            seller = works[group[0].work_id].creator_id
            gas_by_seller[seller] = gas_by_seller.get(seller, 0) + transfer_gas(len(group))
        for seller, group in by_seller.items():
            if not self.custody.approval_sent(self._seller_signer(works[group[0].work_id]).address):
                gas_by_seller[seller] += APPROVAL_GAS
        groups = ([(shared, self.chain.signer)] if shared else []) + [(g, None) for g in own_groups]

        sent: list[tuple[list[Purchase], PreparedTx]] = []
        funded: set[int] = set()
        try:
            for group, operator in groups:
                seller = works[group[0].work_id].creator_id
                try:
                    signer = operator
                    if signer is None:  # the seller's own custody wallet signs and pays
                        signer = self._seller_signer(works[group[0].work_id])
                        if seller not in funded:  # gas money once per seller and batch
                            self.custody.ensure_gas(signer.address, gas=gas_by_seller[seller])
                            funded.add(seller)
                    prepared = self._start_delivery(group, works, signer)
                    if prepared is not None and operator is None and group[0].delivery_attempts == 0:
                        self.custody.approve_operator(signer)
                except Exception as exc:  # noqa: BLE001 (never strand the rest of the batch; _give_back logs it)
                    self._give_back(group, exc, "delivery")
                    continue
                if prepared is not None:
                    sent.append((group, prepared))
        finally:
            mined: list[tuple[Purchase, Work, TxReceipt]] = []
            for group, prepared in sent:
                try:
                    receipt = self.chain.wait_for_receipt(prepared.tx_hash, timeout_s=self.receipt_timeout_s)
                except Exception:  # reconcile_submitted settles it later
                    log.exception("waiting for the delivery of purchase(s) %s failed", _ids(group))
                    continue
                if receipt is not None:
                    mined.extend((purchase, works[purchase.work_id], receipt) for purchase in group)
            self._settle_many(mined)
        return len(purchases) + len(editions)

    def _give_back(self, group: list[Purchase], exc: Exception, step: str) -> None:
        """What a delivery step that raised does with its purchases: the chain or a service away
        (ServiceUnavailable): released, tried again soon; refused (MarketplaceError): retried, refunded after the
        last attempt; anything else: logged with its traceback, then the same."""
        ids = [purchase.id for purchase in group]
        if isinstance(exc, ServiceUnavailable):
            log.warning("%s of purchase(s) %s postponed: %s", step, _ids(group), exc.message)
            self._release(ids)
            return
        if isinstance(exc, MarketplaceError):
            message = exc.message
        else:
            log.error("%s of purchase(s) %s failed", step, _ids(group), exc_info=exc)
            message = f"unexpected error: {exc}"
        for purchase_id in ids:
            with bound(purchase_id=purchase_id):
                self._retry_or_refund(purchase_id, message)

    # ------------------------------------------------------------ resales
    def deliver_resales(self, purchases: list[Purchase], works: dict[int, Work]) -> None:
        """Each claimed resale on its own: the token from the seller's custody wallet to the buyer's."""
        for purchase in purchases:
            try:
                self._deliver_resale(purchase, works[purchase.work_id])
            except Exception as exc:  # noqa: BLE001 (never strand the rest of the batch; _give_back logs it)
                self._give_back([purchase], exc, "resale delivery")

    def _deliver_resale(self, purchase: Purchase, work: Work) -> None:
        token_id = int(purchase.token_id)
        signer = self.custody.signer(purchase.seller_id)  # the seller's custody wallet: the platform holds its key
        owner = self.chain.owner_of(token_id)
        if owner == purchase.wallet_address:  # a retry whose transfer made it after all
            self._settle(purchase.id, receipt=None)
            return
        if owner != signer.address:
            self._undeliverable(purchase.id, "The token left the seller's custody wallet before delivery: "
                                             "nothing was sold, the payment is refunded")
            return
        with db.session_scope() as session:
            refused = payments_service.delivery_refused(session, purchase)
        if refused:  # e.g. the listing was cancelled before a late payment arrived
            self._undeliverable(purchase.id, refused)
            return
        self.custody.ensure_gas(signer.address, gas=TRANSFER_GAS)
        prepared = self.chain.prepare_transfer(signer, to=purchase.wallet_address, token_id=token_id)
        if not self._write_ahead_and_send([purchase], prepared, signer):
            return
        receipt = self.chain.wait_for_receipt(prepared.tx_hash, timeout_s=self.receipt_timeout_s)
        if receipt is not None:  # otherwise reconcile_submitted settles it later
            self._settle_many([(purchase, work, receipt)])

    def _undeliverable(self, purchase_id: int, reason: str) -> None:
        """A resale whose token is gone from the seller's custody wallet: a refund owed, and the settled hooks told
        (the listing withdrawn), in one transaction."""
        with db.session_scope() as session:
            if payments_service.owe_refund(session, purchase_id, reason):
                payments_service.run_settled_hooks(session, session.get(Purchase, purchase_id),
                                                   payments_service.UNDELIVERABLE)
        log.warning("resale purchase %s will be refunded: %s", purchase_id, reason)

    # ------------------------------------------------------------ withdrawals
    def withdraw_batch(self) -> int:
        """Claim pending withdrawals and send each like a resale's delivery: the custody key signs the transfer to
        the linked wallet, the transaction is written ahead on the row, then sent; the receipt settles it (or
        reconcile_withdrawals does, from the chain, after a crash)."""
        table = TokenWithdrawal.__table__
        ready = (table.c.status == WithdrawalStatus.pending.value) & table.c.tx_hash.is_(None)
        with db.session_scope() as session:
            claimed = lease.claim(session, table, ready=ready, worker=self.name, lease=self.lease,
                                  limit=self.batch_size, entity=TokenWithdrawal)
        for withdrawal in claimed:
            try:
                self._withdraw(withdrawal)
            except ServiceUnavailable as exc:
                log.warning("withdrawal %s postponed: %s", withdrawal.id, exc.message)
                with db.session_scope() as session:
                    lease.release(session, table, [withdrawal.id], worker=self.name)
            except Exception as exc:  # never strand the rest of the batch
                log.error("withdrawal %s failed", withdrawal.id, exc_info=exc)
                self._withdrawal_retry_or_fail(withdrawal.id, getattr(exc, "message", str(exc)))
        return len(claimed)

    def _withdraw(self, withdrawal: TokenWithdrawal) -> None:
        token_id = int(withdrawal.token_id)
        signer = self.custody.signer(withdrawal.account_id)
        owner = self.chain.owner_of(token_id)
        if owner == withdrawal.to_address:  # a retry whose transfer made it after all
            self._settle_withdrawal(withdrawal.id, receipt=None)
            return
        if owner != signer.address:
            with db.session_scope() as session:
                withdrawals.mark(session, withdrawal.id, WithdrawalStatus.failed,
                                 error="The token is no longer in the custody wallet")
            return
        with db.session_scope() as session:  # a buyer's purchase of the token came first: it is theirs to deliver
            if withdrawals.open_purchase_of(session, withdrawal.token_id) is not None:
                withdrawals.mark(session, withdrawal.id, WithdrawalStatus.failed, error=withdrawals.ON_SALE)
                log.warning("withdrawal %s failed: a buyer's purchase of token %s is open", withdrawal.id, token_id)
                return
        self.custody.ensure_gas(signer.address, gas=TRANSFER_GAS)
        prepared = self.chain.prepare_transfer(signer, to=withdrawal.to_address, token_id=token_id)
        with nonce_freed_on_error(signer, prepared.nonce), db.session_scope() as session:
            recorded = withdrawals.record_sent(session, withdrawal.id, worker=self.name, tx_hash=prepared.tx_hash,
                                               nonce=prepared.nonce, now=utcnow())
        if not recorded:
            log.warning("withdrawal %s not sent: its claim was lost", withdrawal.id)
            signer.free(prepared.nonce)
            return
        try:
            self.chain.send(prepared, signer=signer)
        except MarketplaceError as exc:
            self.custody.forget_balance(signer.address)
            self._withdrawal_retry_or_fail(withdrawal.id, exc.message)
            return
        receipt = self.chain.wait_for_receipt(prepared.tx_hash, timeout_s=self.receipt_timeout_s)
        if receipt is not None:  # otherwise reconcile_withdrawals settles it later
            self._settle_withdrawal(withdrawal.id, receipt=receipt)

    def _settle_withdrawal(self, withdrawal_id: int, *, receipt: TxReceipt | None) -> None:
        """Done (once) when the receipt shows the transfer to the linked wallet, or the chain shows it owns the
        token; otherwise tried again (the recorded transaction cleared) or failed after the last attempt."""
        with db.session_scope() as session:
            withdrawal = session.get(TokenWithdrawal, withdrawal_id)
        token_id = int(withdrawal.token_id)
        arrived, tx_hash = self._arrival(token_id, withdrawal.to_address, receipt, recorded=withdrawal.tx_hash)
        if not arrived:
            self._withdrawal_retry_or_fail(withdrawal_id, _failed("withdrawal", receipt))
            return
        wake("indexer")
        with db.session_scope() as session:
            if withdrawals.mark(session, withdrawal_id, WithdrawalStatus.done, tx_hash=tx_hash):
                log.info("withdrawal %s done: token %s to %s in %s", withdrawal_id, token_id,
                         withdrawal.to_address, tx_hash)
            session.commit()

    def _withdrawal_retry_or_fail(self, withdrawal_id: int, reason: str) -> None:
        table = TokenWithdrawal.__table__
        with db.session_scope() as session:
            attempts = session.get(TokenWithdrawal, withdrawal_id).attempts
            if attempts < self.max_attempts:
                lease.retry_later(session, table, [withdrawal_id], attempts=attempts, backoff=self.backoff,
                                  error=reason, where=table.c.status == WithdrawalStatus.pending.value, tx_hash=None)
            else:
                withdrawals.mark(session, withdrawal_id, WithdrawalStatus.failed,
                                 error=f"Withdrawal failed after {attempts} attempts: {reason}")
            session.commit()

    def reconcile_withdrawals(self, *, force: bool = False) -> int:
        """Pending withdrawals whose transaction was written ahead and not settled by the worker that sent it (a
        crash, a lost lease): settled from the receipt, or once stale and unknown to the node, from the chain."""
        now = utcnow()
        with db.session_scope() as session:
            submitted = session.exec(select(TokenWithdrawal).where(
                TokenWithdrawal.status == WithdrawalStatus.pending, col(TokenWithdrawal.tx_hash).is_not(None))).all()
        moved = 0
        for withdrawal in submitted:
            if not force and withdrawal.claimed_by == self.name and withdrawal.claimed_until \
                    and withdrawal.claimed_until > now and withdrawal.submitted_at \
                    and now - withdrawal.submitted_at < self.stale_submit:
                continue  # ours, in flight
            receipt = self.chain.get_receipt(withdrawal.tx_hash)
            if receipt is None:
                stale = withdrawal.submitted_at is None or now - withdrawal.submitted_at > self.stale_submit
                if not (stale or force) or self.chain.tx_known(withdrawal.tx_hash):
                    continue
                self.chain.signer_for_address_resync(withdrawal.from_address)
            self._settle_withdrawal(withdrawal.id, receipt=receipt)
            moved += 1
        return moved

    # ------------------------------------------------------------ editions
    def deliver_editions(self, purchases: list[Purchase], works: dict[int, Work]) -> None:
        """Mint each claimed edition's token to its buyer, all in one `mintBatch` from the platform signer: each
        purchase's token id recorded first (its metadata pinned), then the transaction written ahead and sent."""
        ready: list[tuple[Purchase, MintRequest]] = []
        for purchase in purchases:
            work = works[purchase.work_id]
            try:
                request = self._edition_request(purchase, work)
            except Exception as exc:  # noqa: BLE001 (never strand the rest of the batch; _give_back logs it)
                self._give_back([purchase], exc, "preparing the edition")
                continue
            if request is not None:
                ready.append(request)
        if not ready:
            return
        group = [purchase for purchase, _ in ready]
        try:
            prepared = self.chain.prepare_mint_batch([request for _, request in ready])
        except MarketplaceError as exc:  # anything else: run_once releases the claims and raises
            self._give_back(group, exc, "edition delivery")
            return
        if not self._write_ahead_and_send(group, prepared, self.chain.signer):
            return
        receipt = self.chain.wait_for_receipt(prepared.tx_hash, timeout_s=self.receipt_timeout_s)
        if receipt is not None:  # otherwise reconcile_submitted settles it later
            self._settle_many([(purchase, works[purchase.work_id], receipt) for purchase in group])

    def _edition_request(self, purchase: Purchase, work: Work) -> tuple[Purchase, MintRequest] | None:
        """The purchase (its token id recorded) and the mint of its edition; None when there is nothing to send (a
        retry whose token the buyer owns already: settled; owned by anyone else: a refund owed)."""
        if purchase.token_id is None:
            if self.ipfs is None:
                raise ServiceUnavailable("No IPFS node to pin the edition's metadata on")
            with db.session_scope() as session:
                token_id = minting_service.edition_token(session, work=work, edition_number=purchase.edition_number,
                                                         ipfs=self.ipfs, public_base_url=self.public_base_url)
                session.exec(update(Purchase).where(
                    Purchase.id == purchase.id, Purchase.claimed_by == self.name,
                    col(Purchase.token_id).is_(None)).values(token_id=str(token_id), updated_at=utcnow()))
                session.commit()
            with db.session_scope() as session:  # re-read: another worker may have recorded it first
                purchase = session.get(Purchase, purchase.id)
            if purchase.token_id is None or purchase.claimed_by != self.name:
                return None  # the claim was lost meanwhile
        token_id = int(purchase.token_id)
        if purchase.delivery_attempts > 0:  # a retry: the chain may have minted it after all
            owner = self.chain.owner_of(token_id)
            if owner == purchase.wallet_address:
                self._settle(purchase.id, receipt=None)
                return None
            if owner is not None:
                self._owe_refund(purchase.id, "The edition's token is owned by another wallet than the buyer's")
                return None
        self._ensure_split(work)
        return purchase, MintRequest(to=purchase.wallet_address, metadata_digest=token_id.to_bytes(32, "big"),
                                     royalty_receiver=work.royalty_receiver or ZERO_ADDRESS,
                                     royalty_bps=work.royalty_bps)

    def _ensure_split(self, work: Work) -> None:
        """A co-created work's royalty split (its editions' receiver) exists before an edition names it: created
        (idempotently, the address is the split) the first time this worker sees it missing."""
        if not work.royalty_bps or not work.royalty_receiver or work.royalty_receiver in self._splits_seen:
            return
        with db.session_scope() as session:
            split = minting_service.royalty_split(session, work=work)
        if split is not None and not self.chain.split_exists(work.royalty_receiver):
            self.chain.create_split(split)
        self._splits_seen.add(work.royalty_receiver)

    def _seller_signer(self, work: Work) -> Signer:
        """The creator's custody wallet, which holds the work's token until it is sold."""
        return self.custody.signer(work.creator_id)

    def _settle_many(self, mined: list[tuple[Purchase, Work, TxReceipt]]) -> None:
        """Deliveries whose receipt shows the transfer to the buyer settle together, in one transaction; the rest
        one by one through _settle (which asks the chain)."""
        done, others = [], []
        for purchase, work, receipt in mined:
            token_id = _token_id(purchase, work)
            if receipt.status == 1 and any(
                    t.token_id == token_id and t.to == purchase.wallet_address for t in receipt.transfers):
                done.append((purchase, work, receipt.tx_hash))
            else:
                others.append((purchase, receipt))
        if done:
            self._mark_delivered(done)
        for purchase, receipt in others:
            try:
                self._settle(purchase.id, receipt=receipt)
            except Exception:
                log.exception("settling delivery of purchase %s failed", purchase.id)

    def _mark_delivered(self, done: list[tuple[Purchase, Work, str | None]]) -> None:
        """paid -> delivered (guarded, so once), each work's new owner and each sale in the ledger, in one
        database transaction. The chain indexer is woken first: the transfers are mined, the owners it shows follow."""
        wake("indexer")
        # a resale's royalty, as the token's contract says for its price (EIP-2981 royaltyInfo, rounded down)
        royalties = {purchase.id: self.chain.royalty_info(int(purchase.token_id), purchase.amount_cents)[1]
                     for purchase, _work, _tx in done if purchase.kind == PurchaseKind.resale}
        now = utcnow()
        with db.session_scope() as session:
            moved = set(payments_service.mark_delivered_many(session, done, fee_bps=self.fee_bps, now=now,
                                                             sender=self.sender, royalties=royalties))
            session.commit()
        if moved and self.sender is not None:
            outbox.wake_sender()
        for purchase, work, tx_hash in done:
            if purchase.id in moved:
                latency = elapsed_s(purchase.paid_at, now)
                if latency is not None:
                    DELIVERY_LATENCY.observe(latency)
                with bound(purchase_id=purchase.id, work_id=work.id):
                    log.info("purchase %s delivered: token %s to %s in %s", purchase.id, _token_id(purchase, work),
                             purchase.wallet_address, tx_hash)

    def _start_delivery(self, group: list[Purchase], works: dict[int, Work], signer: Signer) -> PreparedTx | None:
        """Sign one transaction for the group, record it on every purchase (write-ahead), send it. None when
        nothing was sent (already settled, not deliverable, or the send failed and the purchases were requeued)."""
        if group[0].delivery_attempts > 0:  # a retry (always alone): the chain may have moved since
            purchase = group[0]
            owner = self.chain.owner_of(int(works[purchase.work_id].token_id))
            if owner == purchase.wallet_address:
                self._settle(purchase.id, receipt=None)
                return None
            if owner is None:  # the token is not on chain: a rewound chain, which the chain watcher sets right
                self._hold([purchase.id], "The work's token is not on chain: waiting for it to be minted again")
                return None
            if owner != signer.address:
                self._owe_refund(purchase.id, "The work's token is no longer held by the platform's custody wallet")
                return None
        prepared = self.chain.prepare_transfer_batch(signer, [
            (self._seller_signer(works[p.work_id]).address, p.wallet_address, int(works[p.work_id].token_id))
            for p in group])
        return prepared if self._write_ahead_and_send(group, prepared, signer) else None

    def _write_ahead_and_send(self, group: list[Purchase], prepared: PreparedTx, signer: Signer) -> bool:
        """Record the signed transaction on every purchase of the group (while claimed by this worker and paid,
        nothing sent yet), then send it. False when it was not sent (a claim lost, or the node refused)."""
        ids = [p.id for p in group]
        now = utcnow()
        with nonce_freed_on_error(signer, prepared.nonce), Session(get_engine()) as session:
            recorded = session.exec(update(Purchase).where(
                col(Purchase.id).in_(ids), Purchase.claimed_by == self.name, Purchase.status == PurchaseStatus.paid,
                col(Purchase.delivery_tx_hash).is_(None),
            ).values(delivery_tx_hash=prepared.tx_hash, delivery_nonce=prepared.nonce, delivery_submitted_at=now,
                     delivery_attempts=Purchase.delivery_attempts + 1, seller_address=signer.address,
                     updated_at=now)).rowcount
            session.commit()
        if recorded != len(ids):
            # a claim was lost (lease expired, another worker took over): the signed transaction is never sent;
            # the rows that did record it settle through reconcile_submitted as a lost transaction
            log.warning("delivery of purchase(s) %s not sent: %d of %d claims held", _ids(group), recorded, len(ids))
            signer.free(prepared.nonce)  # its nonce was consumed by a transaction that will never be sent
            return False
        try:
            self.chain.send(prepared, signer=signer)
        except MarketplaceError as exc:
            self.custody.forget_balance(signer.address)  # read it again next time (insufficient funds?)
            for purchase_id in ids:
                self._retry_or_refund(purchase_id, exc.message)
            return False
        return True

    def _settle(self, purchase_id: int, *, receipt: TxReceipt | None) -> None:
        """Delivered (once) when the receipt shows the transfer to the buyer, or the chain shows the buyer owns the
        token; otherwise retry or refund."""
        with bound(purchase_id=purchase_id):
            self._settle_one(purchase_id, receipt=receipt)

    def _settle_one(self, purchase_id: int, *, receipt: TxReceipt | None) -> None:
        with db.session_scope() as session:
            purchase = session.get(Purchase, purchase_id)
            work = session.get(Work, purchase.work_id)
        arrived, tx_hash = self._arrival(_token_id(purchase, work), purchase.wallet_address, receipt,
                                         recorded=purchase.delivery_tx_hash)
        if not arrived:
            self._retry_or_refund(purchase_id, _failed("delivery", receipt))
            return
        self._mark_delivered([(purchase, work, tx_hash)])

    def _arrival(self, token_id: int, to: str, receipt: TxReceipt | None, *,
                 recorded: str | None) -> tuple[bool, str | None]:
        """Whether the token is at `to`, and the hash of the transaction that took it there: the receipt's when it
        shows the transfer (the happy path: no further reads), else the chain's (`ownerOf`, then the Transfer it
        finds, else the hash recorded ahead). One rule for deliveries and withdrawals alike."""
        if receipt is not None and receipt.status == 1 and any(
                t.token_id == token_id and t.to == to for t in receipt.transfers):
            return True, receipt.tx_hash
        if self.chain.owner_of(token_id) == to:
            transfer = self.chain.find_transfer(token_id, to=to)
            return True, transfer.tx_hash if transfer else recorded
        return False, None

    def reconcile_submitted(self, *, force: bool = False) -> int:
        now = utcnow()
        with db.session_scope() as session:
            submitted = session.exec(select(Purchase).where(
                Purchase.status == PurchaseStatus.paid, col(Purchase.delivery_tx_hash).is_not(None),
                col(Purchase.refund_reason).is_(None))).all()
        moved = 0
        receipts: dict[str, TxReceipt | None] = {}  # the purchases of one batch share their transaction
        for purchase in submitted:
            if not force and purchase.claimed_by == self.name and purchase.claimed_until \
                    and purchase.claimed_until > now and purchase.delivery_submitted_at \
                    and now - purchase.delivery_submitted_at < self.stale_submit:
                continue  # ours, in flight
            if purchase.delivery_tx_hash not in receipts:
                receipts[purchase.delivery_tx_hash] = self.chain.get_receipt(purchase.delivery_tx_hash)
            receipt = receipts[purchase.delivery_tx_hash]
            if receipt is None:
                stale = purchase.delivery_submitted_at is None or now - purchase.delivery_submitted_at > self.stale_submit
                if not (stale or force) or self.chain.tx_known(purchase.delivery_tx_hash):
                    continue
                if purchase.seller_address:
                    self.chain.signer_for_address_resync(purchase.seller_address)
            self._settle(purchase.id, receipt=receipt)
            moved += 1
        return moved

    # ------------------------------------------------------------ claims, retries, refunds
    def _claim(self) -> list[Purchase]:
        """Take up to batch_size claimable purchases for a lease, oldest first: read their ids, then one guarded
        UPDATE ... RETURNING (it re-checks the condition on each row, so a concurrent worker never takes a purchase
        twice). Reading first means an idle worker (woken by every webhook) never takes SQLite's write lock, which
        the webhooks' own commits would queue behind."""
        table = Purchase.__table__
        ready = ((table.c.status == PurchaseStatus.paid.value) & table.c.refund_reason.is_(None)
                 & table.c.delivery_tx_hash.is_(None) & table.c.work_id.is_not(None))  # a call's: nothing to deliver
        with db.session_scope() as session:
            return lease.claim(session, table, ready=ready, worker=self.name, lease=self.lease,
                               limit=self.batch_size, entity=Purchase)

    def _hold_unminted(self, purchases: list[Purchase], works: dict[int, Work]) -> list[Purchase]:
        """The purchases whose work is minted. One whose work went back to minting (the chain lost its token) waits
        for it; one whose work could not be minted again is refunded."""
        ready, waiting = [], []
        for purchase in purchases:
            status = works[purchase.work_id].status
            if status == WorkStatus.minted:
                ready.append(purchase)
            elif status == WorkStatus.mint_failed:
                self._owe_refund(purchase.id, "The work's token was lost by the chain and could not be minted again")
            else:
                waiting.append(purchase.id)
        if waiting:
            self._hold(waiting, "Waiting for the work to be minted again (the chain lost its token)")
        return ready

    def _hold(self, purchase_ids: list[int], reason: str) -> None:
        """Let the claims go, but not claimable again for HOLD_S: nothing to do before the work is on chain."""
        with db.session_scope() as session:
            lease.release(session, Purchase.__table__, purchase_ids, worker=self.name, hold=timedelta(seconds=HOLD_S),
                          last_error=reason[:500])

    def _release_unsent(self) -> None:
        """Release this worker's claims on purchases with nothing sent yet (no delivery transaction written)."""
        table = Purchase.__table__
        with db.session_scope() as session:
            lease.release(session, table, None, worker=self.name,
                          where=(table.c.status == PurchaseStatus.paid.value) & table.c.delivery_tx_hash.is_(None))

    def _release(self, purchase_ids: list[int]) -> None:
        with db.session_scope() as session:
            lease.release(session, Purchase.__table__, purchase_ids, worker=self.name)

    def _retry_or_refund(self, purchase_id: int, reason: str) -> None:
        table = Purchase.__table__
        with db.session_scope() as session:
            attempts = session.get(Purchase, purchase_id).delivery_attempts
            if attempts < self.max_attempts:
                lease.retry_later(session, table, [purchase_id], attempts=attempts, backoff=self.backoff, error=reason,
                                  where=table.c.status == PurchaseStatus.paid.value, delivery_tx_hash=None)
                return
        self._owe_refund(purchase_id, f"Delivery failed after {attempts} attempts: {reason}")

    def _owe_refund(self, purchase_id: int, reason: str) -> None:
        with db.session_scope() as session:
            payments_service.owe_refund(session, purchase_id, reason)
        log.warning("purchase %s will be refunded: %s", purchase_id, reason)

    def refund_owed(self) -> int:
        """Refund every purchase that owes one, idempotently (Stripe idempotency key per purchase)."""
        with db.session_scope() as session:
            owed = session.exec(select(Purchase).where(
                col(Purchase.refund_reason).is_not(None), col(Purchase.refund_id).is_(None),
                col(Purchase.status).in_(("pending", "paid", "expired", "failed")))).all()
        for purchase in owed:
            if not purchase.stripe_payment_intent_id:
                continue
            try:
                refund_id = self.gateway.refund(purchase_id=purchase.id, payment_intent=purchase.stripe_payment_intent_id,
                                                reason=purchase.refund_reason)
            except PaymentProviderError as exc:
                # Stripe refused for good: the purchase fails and leaves the refund queue (refund_reason cleared,
                # the whole story in failure_reason) for a person to look at, instead of asking Stripe forever.
                with db.session_scope() as session:
                    payments_service.record_refund_refused(session, purchase=purchase, error=exc.message)
                continue
            with db.session_scope() as session:
                payments_service.record_refunded(session, purchase=purchase, refund_id=refund_id)
        return len(owed)


def _token_id(purchase: Purchase, work: Work) -> int:
    """The token a purchase delivers: its edition's, or the unique work's."""
    return int(purchase.token_id or work.token_id)


def _ids(purchases: list[Purchase]) -> str:
    return ", ".join(str(p.id) for p in purchases)


def _failed(what: str, receipt: TxReceipt | None) -> str:
    """Why a sent transfer did not arrive: its receipt says it reverted, or the node has no trace of it."""
    return f"{what} transaction reverted" if receipt is not None and receipt.status != 1 else \
        f"{what} transaction lost"
