"""The mint worker: turns pending mint jobs into tokens, in batches, exactly once.

Exactly once rests on three things:
- the token id is the sha2-256 digest of the work's metadata, and the contract's mintBatch skips ids that exist,
  so re-sending a batch can never mint a token twice;
- a job's transaction hash is written to the database *before* the transaction is sent (write-ahead), so after a
  crash the worker finds the transaction (receipt) or finds the token on chain (Transfer log) and settles the job;
- claims and state changes are guarded updates (`... WHERE status = 'pending'`), so several workers may run.

A co-created work's royalty receiver is a split's wallet (Splits.sol), an address known before the split exists.
The batch that mints it first creates the split: its createSplit transactions are signed just before the mintBatch,
from the same signer, and sent first, so their nonces are lower: a mined mint means its splits were mined. Nothing
about them is written ahead: createSplit is idempotent by construction (the address is the split), so a retried
batch creates it again or finds it there.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict, deque

from sqlalchemy import update
from sqlmodel import Session, select

from marketplace.catalog import service as catalog_service
from marketplace.core import db
from marketplace.core.db import get_engine, utcnow
from marketplace.core.exceptions import MarketplaceError
from marketplace.core.observability import CHAIN_TX_REPLACED, CHAIN_TX_STUCK, MINT_LATENCY, bound, elapsed_s
from marketplace.integrations.chain.client import ChainClient, Minted, MintRequest, PreparedTx, TxReceipt
from marketplace.jobs import lease
from marketplace.jobs.runner import BackgroundWorker, wake
from marketplace.minting.models import MintJob, MintJobStatus
from marketplace.minting.service import MINT_WORKER

log = logging.getLogger(__name__)

NOT_CONFIRMED = (MintJobStatus.pending, MintJobStatus.submitted, MintJobStatus.failed)
MAX_BATCHES_PER_ROUND = 16  # batches one submit_batch may send before run_once reconciles again
# replacements of one stuck transaction (each +12.5 % fees, one per WORKER_STALE_SUBMIT_S): after these the worker
# stops bumping (fees would compound without end when MAX_FEE_PER_GAS_GWEI is unset), logs an error, counts it in
# marketplace_chain_tx_stuck and leaves the transaction to be mined or dropped (reconcile_submitted settles it then)
MAX_REPLACEMENTS = 3


class MintWorker(BackgroundWorker):
    kind = MINT_WORKER
    chain_gate = None  # a ChainWatcher (services wire it): no chain writes until it says the chain is ours
    _force_reconcile = False

    def __init__(
        self,
        *,
        chain: ChainClient,
        pipeline_depth: int = 4,
        **settings,
    ) -> None:
        """pipeline_depth: mint transactions in flight at once (1: each batch is mined before the next is
        signed); the setting MINT_PIPELINE_DEPTH."""
        super().__init__(**settings)  # batch_size, max_attempts, lease_s, ...: see BackgroundWorker
        self.chain = chain
        self.pipeline_depth = max(1, pipeline_depth)
        self._splits_created: set[str] = set()  # royalty splits (JSON, as on the jobs) seen mined with their mints
        self._stuck_reported: set[str] = set()  # hashes past MAX_REPLACEMENTS already logged (once each)

    def run_once(self) -> int:
        """Reconcile what was submitted, then submit one batch. Returns how many jobs moved."""
        if self.chain_gate is not None and not self.chain_gate.writable:
            return 0  # the chain is not checked yet, unreachable, or another chain
        force, self._force_reconcile = self._force_reconcile, False
        moved = self.reconcile_submitted(force=force)
        moved += self.submit_batch()
        return moved

    def chain_moved(self) -> None:
        """The chain watcher saw a rewind or an outage: the node's mempool may be gone, so submitted transactions
        it no longer knows count as lost at once (not after stale_submit), and the splits it created may be gone."""
        self._force_reconcile = True
        self._splits_created = set()
        self.wake()

    def reconcile_submitted(self, *, force: bool = False) -> int:
        """Settle submitted jobs from their receipts, or, for transactions the node no longer knows, from the chain."""
        with db.session_scope() as session:
            jobs = session.exec(select(MintJob).where(MintJob.status == MintJobStatus.submitted)).all()
        by_tx: dict[str, list[MintJob]] = {}
        for job in jobs:
            by_tx.setdefault(job.tx_hash or "", []).append(job)
        moved = 0
        now = utcnow()
        for tx_hash, group in by_tx.items():
            receipt = self.chain.get_receipt(tx_hash) if tx_hash else None
            if receipt is not None:
                moved += self._settle(group, receipt)
                continue
            stale = all(j.submitted_at is None or now - j.submitted_at > self.stale_submit for j in group)
            if not (force or stale):
                continue
            if tx_hash and self.chain.tx_known(tx_hash):
                self._replace_stuck(group, tx_hash)  # still in the mempool: the same nonce, higher fees
                continue
            moved += self._settle(group, None)
        return moved

    def _replace_stuck(self, group: list[MintJob], tx_hash: str) -> None:
        """A stale transaction the node still holds unmined (its fees too low for the chain now): sign it again
        with the same nonce and bumped fees (capped at MAX_FEE_PER_GAS_GWEI: ChainClient.replacement), record the
        new hash on its jobs, then send it (write-ahead, as a batch's first send: a crash in between leaves a hash
        the node never saw, and the jobs settle from the chain once stale: find_mint sees the tokens whichever of
        the two mined; mintBatch skips minted ids). A refused send puts the old hash back. At most MAX_REPLACEMENTS
        per transaction chain (a refused send counts): then an error once and no more bumps."""
        table = MintJob.__table__
        ids = [j.id for j in group]
        if max(j.replacements for j in group) >= MAX_REPLACEMENTS:
            if tx_hash not in self._stuck_reported:
                self._stuck_reported.add(tx_hash)
                CHAIN_TX_STUCK.inc()
                log.error("mint transaction %s still unmined after %d replacements: no more fee bumps; it settles "
                          "when mined or dropped (check the node's fees and MAX_FEE_PER_GAS_GWEI)", tx_hash,
                          MAX_REPLACEMENTS)
            return
        prepared = self.chain.replacement(tx_hash)
        if prepared is None:
            return
        now = utcnow()
        submitted = table.c.status == MintJobStatus.submitted.value
        with db.session_scope() as session:
            recorded = session.execute(
                update(table).where(table.c.id.in_(ids), table.c.tx_hash == tx_hash, submitted)
                .values(tx_hash=prepared.tx_hash, submitted_at=now, updated_at=now,
                        replacements=table.c.replacements + 1)).rowcount
        if not recorded:
            return  # settled (or re-queued) meanwhile: nothing to replace
        try:
            self.chain.send(prepared)
        except MarketplaceError as exc:
            log.warning("replacing stuck mint transaction %s failed: %s", tx_hash, exc.message)
            with db.session_scope() as session:  # the old transaction is still the one the node holds
                session.execute(update(table).where(table.c.id.in_(ids), table.c.tx_hash == prepared.tx_hash,
                                                    submitted)
                                .values(tx_hash=tx_hash, updated_at=utcnow()))
            return
        CHAIN_TX_REPLACED.inc()
        log.warning("mint transaction %s stuck: replaced by %s (nonce %d, fees bumped)", tx_hash, prepared.tx_hash,
                    prepared.nonce)

    def submit_batch(self) -> int:
        """Claim, sign, write ahead and send batches, keeping up to `pipeline_depth` transactions in flight: the
        next batch is signed, recorded and sent while the previous one is being mined. A round ends when no job is
        left to claim (or after MAX_BATCHES_PER_ROUND batches, so reconcile_submitted runs now and then); nothing
        is in flight when it returns. The batches whose receipts show every token minted settle together, every
        `pipeline_depth` receipts and at the end of the round, in one database transaction each (_confirm); any
        other receipt settles through _settle.

        An exception (or a crash) leaves the batches in flight, and those mined but not yet settled, as
        `submitted` rows with their hashes, written before they were sent: reconcile_submitted settles them from
        their receipts or from the chain. Returns the jobs moved."""
        moved = 0
        in_flight: deque[tuple[list[MintJob], PreparedTx]] = deque()
        confirmed: list[tuple[MintJob, Minted]] = []
        awaited = 0
        for _ in range(MAX_BATCHES_PER_ROUND):
            claimed = self._claim_and_write_ahead()
            if claimed is None:
                break
            jobs, prepared, splits = claimed
            moved += len(jobs)
            try:
                for split_tx in splits.values():  # lower nonces than the mint's: mined before it
                    self.chain.send(split_tx)
                self.chain.send(prepared)
            except MarketplaceError as exc:
                log.warning("mint batch %s not accepted: %s", prepared.tx_hash, exc.message)
                self._retry_or_fail(jobs, exc.message)
                break  # do not spin on a node that refuses; what is in flight settles below
            in_flight.append((jobs, prepared))
            if len(in_flight) >= self.pipeline_depth:
                confirmed += self._await(*in_flight.popleft())
                awaited += 1
                if awaited % self.pipeline_depth == 0:  # settle every pipeline_depth receipts, not only at the end
                    confirmed = self._confirm_all(confirmed)
            if len(jobs) < self.batch_size:
                break  # the queue is empty: settle what is in flight rather than ask again
        while in_flight:
            confirmed += self._await(*in_flight.popleft())
        self._confirm_all(confirmed)
        return moved

    def _confirm_all(self, confirmed: list[tuple[MintJob, Minted]]) -> list[tuple[MintJob, Minted]]:
        if confirmed:
            self._confirm(confirmed)
        return []

    def _await(self, jobs: list[MintJob], prepared: PreparedTx) -> list[tuple[MintJob, Minted]]:
        """Wait for a batch's receipt. Every token minted by it: the (job, mint) pairs, for _confirm. Otherwise the
        batch settles now through _settle (reverted, or tokens minted earlier: it asks the chain), or, without a
        receipt in time, later through reconcile_submitted."""
        receipt = self.chain.wait_for_receipt(prepared.tx_hash, timeout_s=self.receipt_timeout_s)
        if receipt is None:
            return []
        minted = {m.token_id: m for m in receipt.minted}
        pairs = [(job, minted.get(int(job.metadata_digest, 16))) for job in jobs]
        if receipt.status == 1:
            self._check_splits({job.royalty_split for job in jobs} - {None} - self._splits_created)
        if receipt.status == 1 and all(m is not None for _, m in pairs):
            return pairs
        self._settle(jobs, receipt)
        return []

    def _claim_and_write_ahead(self) -> tuple[list[MintJob], PreparedTx, dict[str, PreparedTx]] | None:
        """Claim up to batch_size pending jobs (oldest first, for a lease), sign one mintBatch for them and record
        its hash on every job, in one database transaction: when it commits, the hash is durable before the
        transaction can exist anywhere (write-ahead); when anything fails first, nothing was claimed. The royalty
        splits the jobs name and this worker has not seen created get a createSplit each, signed before the mint
        (returned by split, to send first).

        The claim reads the oldest claimable ids, then takes them with a guarded UPDATE ... RETURNING (as the
        delivery worker's) that re-checks each: the rows stay locked until the commit (PostgreSQL: a concurrent
        claim waits for them, then re-checks and leaves them out; SQLite: the one writer), so no job is taken
        twice. Nothing inside asks the node: the fees and the signer's nonce are read
        before the transaction opens (so a hung node never holds SQLite's write lock). Returns the jobs as the
        write-ahead left them (rows of mint_job, with the attributes of MintJob), the signed transaction and the
        splits' transactions."""
        now = utcnow()
        jobs_t = MintJob.__table__
        ready = jobs_t.c.status == MintJobStatus.pending.value
        with db.session_scope() as session:  # an idle worker asks the node nothing
            if not lease.has_ready(session, jobs_t, ready=ready, now=now):
                return None
        fees = self.chain.fees()
        self.chain.chain_id()
        self.chain.signer.prime()
        with Session(get_engine()) as session:
            # plain rows, not ORM objects (loading 50 MintJob objects cost more than the SQL)
            claimed = lease.claim(session, jobs_t, ready=ready, worker=self.name, lease=self.lease,
                                  limit=self.batch_size, now=now,
                                  returning=(jobs_t.c.id, jobs_t.c.to_address, jobs_t.c.metadata_digest,
                                             jobs_t.c.royalty_receiver, jobs_t.c.royalty_bps,
                                             jobs_t.c.royalty_split))
            if not claimed:
                session.rollback()
                return None
            ids = [j.id for j in claimed]
            requests = [
                MintRequest(
                    to=j.to_address,
                    metadata_digest=bytes.fromhex(j.metadata_digest.removeprefix("0x")),
                    royalty_receiver=j.royalty_receiver,
                    royalty_bps=j.royalty_bps,
                )
                for j in claimed
            ]
            try:
                splits = self._prepare_splits([j.royalty_split for j in claimed], fees=fees)
                prepared = self.chain.prepare_mint_batch(requests, fees=fees)
            except (MarketplaceError, ValueError) as exc:
                session.rollback()
                self.chain.signer.resync()  # a split signed before the failure consumed a nonce
                self._record_error(ids, str(exc))
                raise
            try:
                jobs = sorted(session.execute(
                    update(jobs_t)
                    .where(jobs_t.c.id.in_(ids))
                    .values(status=MintJobStatus.submitted.value, tx_hash=prepared.tx_hash, nonce=prepared.nonce,
                            submitted_at=now, attempts=jobs_t.c.attempts + 1, replacements=0, updated_at=now)
                    .returning(*jobs_t.c)).all(), key=lambda j: j.id)
                session.commit()
            except BaseException:
                # consumed by transactions that will never be sent: handed back, the newest first
                for unsent in sorted((prepared, *splits.values()), key=lambda p: p.nonce, reverse=True):
                    self.chain.signer.free(unsent.nonce)
                raise
        return jobs, prepared, splits

    def _check_splits(self, splits: set[str]) -> None:
        """The splits a mined batch created (its createSplit nonces were lower: they were mined too): remember them,
        and create any that is not there (a createSplit that ran out of gas, say) now."""
        for split in splits:
            pairs = json.loads(split)
            if not self.chain.split_exists(self.chain.split_address(pairs)):
                log.warning("royalty split %s missing after its mint: creating it", self.chain.split_address(pairs))
                self.chain.create_split(pairs)
            self._splits_created.add(split)

    def _prepare_splits(self, splits: list[str | None], *, fees: dict[str, int]) -> dict[str, PreparedTx]:
        """A signed createSplit for each distinct split named here that this worker has not seen created (asking
        the node nothing: an existing split makes it a no-op of ~25k gas)."""
        prepared: dict[str, PreparedTx] = {}
        for split in splits:
            if split and split not in self._splits_created and split not in prepared:
                prepared[split] = self.chain.prepare_create_split(json.loads(split), fees=fees, simulate=False)
        return prepared

    # ------------------------------------------------------------ helpers
    def _record_error(self, ids: list[int], error: str) -> None:
        """Why a claim was given back (the claim itself was rolled back): on the jobs still pending."""
        table = MintJob.__table__
        with db.session_scope() as session:
            session.execute(
                update(table)
                .where(table.c.id.in_(ids), table.c.status == MintJobStatus.pending.value)
                .values(last_error=error[:500], updated_at=utcnow())
            )

    def _settle(self, jobs: list[MintJob], receipt: TxReceipt | None) -> int:
        minted = {m.token_id: m for m in (receipt.minted if receipt else [])}
        confirmed: list[tuple[MintJob, Minted]] = []
        retry: list[MintJob] = []
        for job in jobs:
            token_id = int(job.metadata_digest, 16)
            found: Minted | None = minted.get(token_id)
            if found is None:
                found = self.chain.find_mint(token_id)  # minted by an earlier attempt?
            if found is not None:
                confirmed.append((job, found))
            else:
                retry.append(job)
        if confirmed:
            self._confirm(confirmed)
        if receipt is None:
            self.chain.signer.resync()  # a lost transaction leaves a nonce gap: re-read the pending count
        if retry:
            reason = "transaction reverted" if receipt is not None and receipt.status != 1 else "transaction lost"
            self._retry_or_fail(retry, reason)
        return len(jobs)

    def _confirm(self, confirmed: list[tuple[MintJob, Minted]]) -> None:
        """Settle a whole batch in one database transaction, set-based: one guarded UPDATE of the jobs per
        transaction hash and one of the works per (owner, transaction) -- normally one of each for a batch -- so a
        confirmed job is never confirmed again and a work already minted keeps its record. Every minted token of
        a group shares its transaction, so its block: a block number column would be set in the works' UPDATE
        from `minted.block_number` (the receipt's). The chain indexer is woken: the tokens it shows are mined."""
        wake("indexer")
        now = utcnow()
        chain_id = self.chain.chain_id()
        jobs_by_tx: dict[str, list[int]] = defaultdict(list)
        works_by_mint: dict[tuple[str, str], list[int]] = defaultdict(list)
        for job, minted in confirmed:
            jobs_by_tx[minted.tx_hash].append(job.id)
            works_by_mint[(minted.to, minted.tx_hash)].append(job.work_id)
        with db.session_scope() as session:
            settled: list[int] = []
            for tx_hash, job_ids in jobs_by_tx.items():
                settled += lease.settle(session, MintJob.__table__, job_ids, from_=NOT_CONFIRMED,
                                        to=MintJobStatus.confirmed, tx_hash=tx_hash, last_error=None, updated_at=now)
            done = len(settled)
            for (owner, tx_hash), work_ids in works_by_mint.items():
                catalog_service.record_minted(session, work_ids=work_ids, owner=owner, tx_hash=tx_hash,
                                              contract_address=self.chain.contract_address, chain_id=chain_id,
                                              now=now)
        moved = set(settled)
        for job, minted in confirmed:
            if job.id in moved:
                latency = elapsed_s(job.created_at, now)
                if latency is not None:
                    MINT_LATENCY.observe(latency)
                with bound(work_id=job.work_id):
                    log.info("work %s minted in %s", job.work_id, minted.tx_hash)
        if done:
            log.info("minted %d work(s) in %s", done, confirmed[0][1].tx_hash)

    def _retry_or_fail(self, jobs: list[MintJob], reason: str) -> None:
        """Each job back to pending for another attempt after the backoff, or failed (and its work mint_failed)
        once it has had max_attempts."""
        table = MintJob.__table__
        with db.session_scope() as session:
            for job in jobs:
                attempts = session.get(MintJob, job.id).attempts
                if attempts >= self.max_attempts:
                    if lease.settle(session, table, [job.id], from_=NOT_CONFIRMED, to=MintJobStatus.failed,
                                    last_error=reason[:500]):
                        catalog_service.mark_mint_failed(
                            session, work_id=job.work_id, error=f"Minting failed after {attempts} attempts: {reason}")
                else:
                    lease.retry_later(session, table, [job.id], attempts=attempts, backoff=self.backoff, error=reason,
                                      where=table.c.status != MintJobStatus.confirmed.value,
                                      status=MintJobStatus.pending.value)
