"""The chain watcher: notices when the chain no longer holds what the database recorded, and sets it right.

A local anvil killed and restarted from its last state dump, or a real chain's reorg, can take back blocks that held
our mints and deliveries. The watcher runs next to the workers (same process) and, every CHAIN_WATCH_INTERVAL_S:

- checks the node serves the chain our records were written to (chain id, genesis block hash, the contract). Another
  chain is a configuration error, not a rewind: the workers stop writing (their gate closes, and the client refuses
  to send), the checkpoint says `mismatch`, and GET /api/chain shows it, until the right chain is back;
- compares its cursor (the `chain_checkpoint` row: the last block number and hash it saw) with the chain: a chain
  whose height went back below the cursor, or whose block at the cursor's height has another hash, was rewound;
- re-verifies the recorded mints and deliveries (their block number and hash, recorded here from the receipts) until
  they are CONFIRMATIONS blocks deep; after a rewind, every record above the highest block the chain still holds;
- sends back to minting a work whose token is gone (work `minting`, its job `pending`: the token id is the metadata
  digest and mintBatch skips ids that exist, so it can never be minted twice), and back to delivery a purchase whose
  transfer is gone (`paid`, no delivery transaction, its sale unbooked: the delivery worker sends it again, and a
  token can leave the custody wallet only once). The purchase stays the work's active one, so nobody else can buy it.

Until its first check has passed (and after the node was unreachable) the workers wait: nothing is written to a
chain whose identity and rewinds have not been checked. After a rewind or an outage the signers re-read their nonces
and the workers re-check their submitted transactions at once (the node's mempool may be gone).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.catalog.models import Work, WorkStatus
from marketplace.chainwatch.models import ChainCheckpoint, ChainStatus
from marketplace.core.db import get_engine, utcnow
from marketplace.core.exceptions import ServiceUnavailable
from marketplace.integrations.chain.client import ChainClient, ChainHead, TxReceipt
from marketplace.jobs.runner import BackgroundWorker
from marketplace.minting import service as minting_service
from marketplace.minting.models import MintJob, MintJobStatus
from marketplace.payments import service as payments_service
from marketplace.payments.models import Purchase, PurchaseStatus

log = logging.getLogger(__name__)

CHECKPOINT_ID = 1
UNRECORDED_PER_CHECK = 500  # records without a block yet (new ones, or older than this table) verified per check
MISMATCH_LOG_EVERY_S = 60.0


class ChainFollower(Protocol):
    """A worker the watcher gates and tells when the chain moved under it."""

    def chain_moved(self) -> None: ...

    def wake(self) -> None: ...


@dataclass
class WatchReport:
    """What one check saw and did (for logs and tests)."""

    status: str = ChainStatus.ok.value  # ok, mismatch or unreachable
    head: ChainHead | None = None
    rewind: str | None = None  # why the chain counts as rewound, when it does
    detail: str | None = None
    verified_mints: list[int] = field(default_factory=list)  # mint job ids checked against the chain
    verified_deliveries: list[int] = field(default_factory=list)  # purchase ids checked against the chain
    returned_to_minting: list[int] = field(default_factory=list)  # work ids whose token was gone
    returned_to_delivery: list[int] = field(default_factory=list)  # purchase ids whose transfer was gone


def get_checkpoint(*, session: Session) -> ChainCheckpoint | None:
    return session.get(ChainCheckpoint, CHECKPOINT_ID)


class ChainWatcher(BackgroundWorker):
    kind = "chainwatch"

    def __init__(self, *, chain: ChainClient, confirmations: int, expected_chain_id: int | None = None,
                 **settings) -> None:
        super().__init__(**settings)  # poll_interval_s: how often it checks
        self.chain = chain
        self.confirmations = confirmations
        self.expected_chain_id = expected_chain_id  # CHAIN_ID, when set: checked even before anything is recorded
        self.followers: list[ChainFollower] = []
        self._writable = False
        self._down = False
        self._seen: tuple[int, str] | None = None  # the last head this process saw (another may move the row)
        self._rewinds_seen: int | None = None  # the checkpoint's rewinds when this process last followed it
        self._mismatch_logged_at = 0.0

    @property
    def writable(self) -> bool:
        """May the workers write to the chain? Only once this process checked it is ours and not rewound."""
        return self._writable

    def follow(self, worker: ChainFollower) -> None:
        """Gate a worker on this watcher (worker.chain_gate) and tell it when the chain moved."""
        worker.chain_gate = self  # type: ignore[attr-defined]
        self.followers.append(worker)

    def run_once(self) -> int:
        if self.scheduled_here():
            self.check()
        else:
            self.follow_checkpoint()
        return 0  # a check every poll_interval_s

    # ------------------------------------------------------------------ another process checks
    def follow_checkpoint(self) -> WatchReport:
        """Another process's watcher holds the scheduler lock and runs the checks (re-verification, the cursor):
        this one checks only what gates its own workers. The node must serve the recorded chain (identity, asked
        here), the checkpoint must say `ok`, and the chain must still hold the checkpoint's block (else a rewind
        the scheduler has not handled yet: wait for it). A rewind the scheduler handled (the checkpoint's count of
        rewinds went up) makes this process's signers re-read their nonces and its workers re-check what they
        submitted, as its own check would."""
        report = WatchReport()
        try:
            head = self.chain.head()
            report.head = head
            with Session(get_engine(), expire_on_commit=False) as session:
                checkpoint = get_checkpoint(session=session)
            if checkpoint is None:  # the scheduler has not recorded the chain yet
                self._writable = False
                report.status, report.detail = "unreachable", "waiting for the first check"
                return report
            mismatch = self._identity_mismatch(checkpoint, head)
            if mismatch is not None:
                return self._refuse_here(report, mismatch)  # the scheduler records it in the checkpoint
            rewind = self._rewind_reason(checkpoint, head)
            seen_rewinds, self._rewinds_seen = self._rewinds_seen, checkpoint.rewinds
            if self._down or (seen_rewinds is not None and checkpoint.rewinds > seen_rewinds):
                self._chain_moved(checkpoint.last_rewind or "the chain node was unreachable")
            if rewind is not None or checkpoint.status != ChainStatus.ok.value:
                self._writable = False  # the scheduler's next check handles it
                self._rewinds_seen = seen_rewinds if rewind is not None else self._rewinds_seen
                report.status, report.rewind = checkpoint.status, rewind
                return report
        except ServiceUnavailable as exc:
            return self._unreachable(report, exc)
        self._down = False
        self.chain.allow_writes()
        self._writable = True
        return report

    # ------------------------------------------------------------------ the check
    def check(self) -> WatchReport:
        report = WatchReport()
        try:
            head = self.chain.head()
            report.head = head
            with Session(get_engine(), expire_on_commit=False) as session:
                checkpoint = get_checkpoint(session=session)
            mismatch = self._identity_mismatch(checkpoint, head)
            if mismatch is not None:
                return self._refuse(report, mismatch)
            if self.chain.writes_refused:
                log.warning("the chain at %s is the recorded one again: writes resume", self.chain.rpc_url)
            rewind = self._rewind_reason(checkpoint, head)
            if rewind is not None or self._down:
                self._chain_moved(rewind or "the chain node was unreachable")
            floor = self._fork_floor(head) if rewind is not None else self._depth_floor(checkpoint, head)
            self._verify(head, floor, report)
            if rewind is None and (report.returned_to_minting or report.returned_to_delivery):
                rewind = "recorded blocks are no longer on the chain"
                self._chain_moved(rewind)
            report.rewind = rewind
            self._advance(head, rewind)
        except ServiceUnavailable as exc:
            return self._unreachable(report, exc)
        if rewind is not None:
            log.warning("the chain was rewound (%s): works back to minting %s, purchases back to delivery %s",
                        rewind, report.returned_to_minting, report.returned_to_delivery)
        self._seen = (head.number, head.hash)
        self._down = False
        self.chain.allow_writes()
        self._writable = True
        if report.returned_to_minting or report.returned_to_delivery:
            for follower in self.followers:
                follower.wake()
        return report

    def _identity_mismatch(self, checkpoint: ChainCheckpoint | None, head: ChainHead) -> str | None:
        diffs = []
        if self.expected_chain_id is not None and head.chain_id != self.expected_chain_id:
            diffs.append(f"chain id {head.chain_id} (CHAIN_ID: {self.expected_chain_id})")
        if checkpoint is None:  # the first check: this chain becomes the recorded one
            checkpoint = ChainCheckpoint(chain_id=head.chain_id, genesis_hash=head.genesis_hash,
                                         contract_address=self.chain.contract_address, block_number=0, block_hash="")
        if checkpoint.chain_id != head.chain_id:
            diffs.append(f"chain id {head.chain_id} (recorded: {checkpoint.chain_id})")
        if checkpoint.genesis_hash != head.genesis_hash:
            diffs.append(f"genesis block {head.genesis_hash} (recorded: {checkpoint.genesis_hash})")
        if checkpoint.contract_address != self.chain.contract_address:
            diffs.append(f"contract {self.chain.contract_address} (recorded: {checkpoint.contract_address})")
        if not diffs:
            return None
        return (f"the node at {self.chain.rpc_url} serves another chain than the one this database recorded: "
                + ", ".join(diffs))

    def _unreachable(self, report: WatchReport, exc: ServiceUnavailable) -> WatchReport:
        """The node does not answer: this process's chain workers wait (warned once per outage)."""
        if not self._down:
            log.warning("chain watcher: %s; the workers wait until it answers again", exc.message)
        self._down = True
        self._writable = False
        report.status, report.detail = "unreachable", exc.message
        return report

    def _refuse_here(self, report: WatchReport, detail: str) -> WatchReport:
        """Another chain: this process never writes to it (said as an error, at most every few minutes)."""
        self._writable = False
        self.chain.refuse_writes(detail)
        now = time.monotonic()
        if now - self._mismatch_logged_at >= MISMATCH_LOG_EVERY_S:
            log.error("REFUSING TO MINT OR DELIVER: %s. Point RPC_URL/CONTRACT_ADDRESS at the recorded chain "
                      "(or, to move to a new chain on purpose, start from a new database)", detail)
            self._mismatch_logged_at = now
        report.status, report.detail = ChainStatus.mismatch.value, detail
        return report

    def _refuse(self, report: WatchReport, detail: str) -> WatchReport:
        """Another chain: never write to it (refused first, whatever the database says). The checkpoint keeps the
        recorded chain and says why."""
        self._refuse_here(report, detail)
        with Session(get_engine()) as session:
            session.exec(update(ChainCheckpoint).where(ChainCheckpoint.id == CHECKPOINT_ID).values(
                status=ChainStatus.mismatch.value, detail=detail[:500]))
            session.commit()
        return report

    def _rewind_reason(self, checkpoint: ChainCheckpoint | None, head: ChainHead) -> str | None:
        cursors = []
        if checkpoint is not None:
            cursors.append((checkpoint.block_number, checkpoint.block_hash))
        if self._seen is not None:
            cursors.append(self._seen)
        for number, block_hash in cursors:
            if head.number < number:
                return f"the chain went back from block {number} to block {head.number}"
            now_hash = head.hash if number == head.number else self.chain.block_hash(number)
            if now_hash != block_hash:
                return f"block {number} changed (was {block_hash}, now {now_hash})"
        return None

    def _chain_moved(self, reason: str) -> None:
        """Nonces and cached balances/approvals may be wrong now; submitted transactions may be gone."""
        log.info("chain watcher: %s: signers re-read their nonces, workers re-check submitted transactions", reason)
        self.chain.resync_signers()
        for follower in self.followers:
            follower.chain_moved()

    def _depth_floor(self, checkpoint: ChainCheckpoint | None, head: ChainHead) -> int:
        """Records above this block are re-verified: fewer than CONFIRMATIONS deep, or newer than the cursor."""
        below_depth = head.number - self.confirmations  # a record at head - CONFIRMATIONS + 1 has CONFIRMATIONS
        return min(below_depth, checkpoint.block_number) if checkpoint is not None else -1

    def _fork_floor(self, head: ChainHead) -> int:
        """After a rewind: the highest recorded block the chain still holds (the ones below are its ancestors,
        so they hold too); every record above it is verified."""
        with Session(get_engine()) as session:
            recorded: dict[int, set[str]] = {}
            for number, block_hash in [
                *session.exec(select(MintJob.block_number, MintJob.block_hash).where(
                    col(MintJob.block_number).is_not(None)).distinct()).all(),
                *session.exec(select(Purchase.delivery_block_number, Purchase.delivery_block_hash).where(
                    col(Purchase.delivery_block_number).is_not(None)).distinct()).all(),
            ]:
                recorded.setdefault(number, set()).add(block_hash)
        for number in sorted(recorded, reverse=True):
            if number > head.number:
                continue
            if recorded[number] == {self.chain.block_hash(number)}:
                return number
        return -1

    # ------------------------------------------------------------------ re-verification
    def _verify(self, head: ChainHead, floor: int, report: WatchReport) -> None:
        hashes: dict[int, str | None] = {head.number: head.hash}
        receipts: dict[str, TxReceipt | None] = {}  # the records of one batch share their transaction

        def canonical(number: int) -> str | None:
            if number > head.number:
                return None
            if number not in hashes:
                hashes[number] = self.chain.block_hash(number)
            return hashes[number]

        def receipt(tx_hash: str | None) -> TxReceipt | None:
            if not tx_hash:
                return None
            if tx_hash not in receipts:
                receipts[tx_hash] = self.chain.get_receipt(tx_hash)
            return receipts[tx_hash]

        with Session(get_engine(), expire_on_commit=False) as session:
            confirmed = (MintJob.status == MintJobStatus.confirmed) & (Work.status == WorkStatus.minted)
            joined = select(MintJob, Work).join(Work, col(Work.id) == col(MintJob.work_id))
            mints = list(session.exec(joined.where(confirmed, col(MintJob.block_number) > floor)).all())
            mints += session.exec(joined.where(confirmed, col(MintJob.block_number).is_(None))
                                  .order_by(col(MintJob.id).desc()).limit(UNRECORDED_PER_CHECK)).all()
        gone_works: set[int] = set()
        located: list[tuple[tuple[MintJob, Work], tuple[int, str | None, str]]] = []
        for job, work in mints:
            report.verified_mints.append(job.id)
            if job.block_number is not None and job.block_hash == canonical(job.block_number):
                continue
            token_id = int(job.metadata_digest, 16)
            found = receipt(job.tx_hash)
            if found is not None and found.status == 1 and any(m.token_id == token_id for m in found.minted):
                located.append(((job, work), (found.block_number, found.block_hash, found.tx_hash)))
                continue
            minted = self.chain.find_mint(token_id)  # minted by another transaction (re-included elsewhere)?
            if minted is None:
                gone_works.add(work.id)
            else:
                located.append(((job, work), (minted.block_number, canonical(minted.block_number), minted.tx_hash)))
        if located or gone_works:
            with Session(get_engine()) as session:
                for (number, block_hash, tx_hash), jobs in _grouped(located).items():
                    minting_service.record_mint_block(session, job_ids=[job.id for job, _ in jobs], block_number=number,
                                              block_hash=block_hash, tx_hash=tx_hash,
                                              moved_work_ids=[w.id for job, w in jobs if job.tx_hash != tx_hash])
                for job, work in mints:
                    if work.id in gone_works and minting_service.return_to_minting(
                            session, job_id=job.id, work_id=work.id, tx_hash=job.tx_hash,
                            reason="The chain no longer holds this token (it was rewound): minting it again"):
                        report.returned_to_minting.append(work.id)
                session.commit()

        with Session(get_engine(), expire_on_commit=False) as session:
            delivered = Purchase.status == PurchaseStatus.delivered
            purchases = list(session.exec(select(Purchase).where(delivered, or_(
                col(Purchase.delivery_block_number) > floor, col(Purchase.work_id).in_(gone_works)))).all())
            purchases += session.exec(select(Purchase).where(
                delivered, col(Purchase.delivery_block_number).is_(None), col(Purchase.work_id).not_in(gone_works))
                .order_by(col(Purchase.id).desc()).limit(UNRECORDED_PER_CHECK)).all()
        gone: list[tuple[Purchase, str | None]] = []
        landed: list[tuple[Purchase, tuple[int, str | None, str]]] = []
        for purchase in purchases:
            report.verified_deliveries.append(purchase.id)
            token_id = int(purchase.token_id)
            if purchase.work_id in gone_works:  # no token, so no delivery either
                gone.append((purchase, None))
                continue
            if (purchase.delivery_block_number is not None
                    and purchase.delivery_block_hash == canonical(purchase.delivery_block_number)):
                continue
            found = receipt(purchase.delivery_tx_hash)
            if found is not None and found.status == 1 and any(
                    t.token_id == token_id and t.to == purchase.wallet_address for t in found.transfers):
                landed.append((purchase, (found.block_number, found.block_hash, found.tx_hash)))
                continue
            transfer = self.chain.find_transfer(token_id, to=purchase.wallet_address)
            if transfer is None:
                gone.append((purchase, self.chain.owner_of(token_id)))
            else:
                landed.append((purchase, (transfer.block_number, canonical(transfer.block_number),
                                          transfer.tx_hash)))
        if landed or gone:
            with Session(get_engine()) as session:
                for (number, block_hash, tx_hash), group in _grouped(landed).items():
                    payments_service.record_delivery_block(session, purchase_ids=[p.id for p in group], block_number=number,
                                                   block_hash=block_hash, tx_hash=tx_hash)
                for purchase, owner in gone:
                    if payments_service.return_to_delivery(
                            session, purchase_id=purchase.id, tx_hash=purchase.delivery_tx_hash, owner=owner,
                            reason="The chain no longer holds this delivery (it was rewound): delivering it again"):
                        report.returned_to_delivery.append(purchase.id)
                session.commit()

    # ------------------------------------------------------------------ the cursor
    def _advance(self, head: ChainHead, rewind: str | None) -> None:
        now = utcnow()
        values = dict(chain_id=head.chain_id, genesis_hash=head.genesis_hash,
                      contract_address=self.chain.contract_address, block_number=head.number, block_hash=head.hash,
                      status=ChainStatus.ok.value, detail=None, checked_at=now)
        with Session(get_engine()) as session:
            checkpoint = get_checkpoint(session=session)
            if checkpoint is None:
                try:
                    session.add(ChainCheckpoint(id=CHECKPOINT_ID, **values))
                    session.commit()
                except IntegrityError:  # another watcher (process) recorded it first: its row is updated below
                    session.rollback()
                    checkpoint = get_checkpoint(session=session)
                else:
                    log.info("chain watcher: recording chain %s (genesis %s) at block %s", head.chain_id,
                             head.genesis_hash, head.number)
                    return
            if rewind is not None or (checkpoint.block_number, checkpoint.block_hash, checkpoint.status) != (
                    head.number, head.hash, ChainStatus.ok.value):
                if rewind is not None:
                    values.update(rewinds=ChainCheckpoint.rewinds + 1, last_rewind_at=now, last_rewind=rewind[:500])
                session.exec(update(ChainCheckpoint).where(ChainCheckpoint.id == CHECKPOINT_ID).values(**values))
            session.commit()


def _grouped(found: list[tuple[object, tuple[int, str | None, str]]]) -> dict[tuple[int, str | None, str], list]:
    """Records by (block number, block hash, transaction): one statement per transaction, not per record."""
    groups: dict[tuple[int, str | None, str], list] = {}
    for record, where in found:
        groups.setdefault(where, []).append(record)
    return groups
