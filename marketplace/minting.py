"""The mint worker: turns pending mint jobs into tokens, in batches, exactly once.

Exactly once rests on three things:
- the token id is the sha2-256 digest of the work's metadata, and the contract's mintBatch skips ids that exist,
  so re-sending a batch can never mint a token twice;
- a job's transaction hash is written to the database *before* the transaction is sent (write-ahead), so after a
  crash the worker finds the transaction (receipt) or finds the token on chain (Transfer log) and settles the job;
- claims and state changes are guarded updates (`... WHERE status = 'pending'`), so several workers may run.
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from marketplace.catalog.models import Work, WorkStatus
from marketplace.chain.client import ChainClient, Minted, MintRequest, TxReceipt
from marketplace.chain.models import MintJob, MintJobStatus
from marketplace.db import get_engine, utcnow
from marketplace.exceptions import MarketplaceError
from marketplace.workers import BackgroundWorker, nonce_freed_on_error

log = logging.getLogger(__name__)


class MintWorker(BackgroundWorker):
    kind = "mint"
    chain_gate = None  # a ChainWatcher (services wire it): no chain writes until it says the chain is ours
    _force_reconcile = False

    def __init__(
        self,
        *,
        chain: ChainClient,
        **settings,
    ) -> None:
        super().__init__(**settings)  # batch_size, max_attempts, lease_s, ...: see BackgroundWorker
        self.chain = chain

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
        it no longer knows count as lost at once (not after stale_submit)."""
        self._force_reconcile = True
        self.wake()

    def reconcile_submitted(self, *, force: bool = False) -> int:
        """Settle submitted jobs from their receipts, or, for transactions the node no longer knows, from the chain."""
        with Session(get_engine(), expire_on_commit=False) as session:
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
                continue  # still in the mempool
            moved += self._settle(group, None)
        return moved

    def submit_batch(self) -> int:
        jobs = self._claim()
        if not jobs:
            return 0
        requests = [
            MintRequest(
                to=j.to_address,
                metadata_digest=bytes.fromhex(j.metadata_digest.removeprefix("0x")),
                royalty_receiver=j.royalty_receiver,
                royalty_bps=j.royalty_bps,
            )
            for j in jobs
        ]
        ids = [j.id for j in jobs]
        try:
            prepared = self.chain.prepare_mint_batch(requests)
        except MarketplaceError as exc:
            self._release(ids, str(exc))
            raise
        # write-ahead: the hash is durable before the transaction can exist anywhere
        with nonce_freed_on_error(self.chain.signer), Session(get_engine()) as session:
            session.exec(
                update(MintJob)
                .where(col(MintJob.id).in_(ids), MintJob.claimed_by == self.name)
                .values(
                    status=MintJobStatus.submitted,
                    tx_hash=prepared.tx_hash,
                    nonce=prepared.nonce,
                    submitted_at=utcnow(),
                    attempts=MintJob.attempts + 1,
                    updated_at=utcnow(),
                )
            )
            session.commit()
        try:
            self.chain.send(prepared)
        except MarketplaceError as exc:
            log.warning("mint batch %s not accepted: %s", prepared.tx_hash, exc.message)
            with Session(get_engine(), expire_on_commit=False) as session:
                jobs = session.exec(select(MintJob).where(col(MintJob.id).in_(ids))).all()
            self._retry_or_fail(jobs, exc.message)
            return len(ids)
        receipt = self.chain.wait_for_receipt(prepared.tx_hash, timeout_s=self.receipt_timeout_s)
        if receipt is None:
            return len(ids)  # reconcile_submitted settles it later
        with Session(get_engine(), expire_on_commit=False) as session:
            jobs = session.exec(select(MintJob).where(col(MintJob.id).in_(ids))).all()
        self._settle(jobs, receipt)
        return len(ids)

    # ------------------------------------------------------------ helpers
    def _claim(self) -> list[MintJob]:
        now = utcnow()
        claimable = (MintJob.status == MintJobStatus.pending) & or_(
            col(MintJob.claimed_until).is_(None), col(MintJob.claimed_until) < now
        )
        with Session(get_engine(), expire_on_commit=False) as session:
            ids = session.exec(select(MintJob.id).where(claimable).order_by(MintJob.id).limit(self.batch_size)).all()
            if not ids:
                return []
            session.exec(
                update(MintJob)
                .where(col(MintJob.id).in_(ids), claimable)
                .values(claimed_by=self.name, claimed_until=now + self.lease)
            )
            session.commit()
            return list(
                session.exec(
                    select(MintJob).where(
                        col(MintJob.id).in_(ids),
                        MintJob.claimed_by == self.name,
                        MintJob.status == MintJobStatus.pending,
                    )
                ).all()
            )

    def _release(self, ids: list[int], error: str) -> None:
        with Session(get_engine()) as session:
            session.exec(
                update(MintJob)
                .where(col(MintJob.id).in_(ids), MintJob.claimed_by == self.name)
                .values(claimed_by=None, claimed_until=None, last_error=error[:500], updated_at=utcnow())
            )
            session.commit()

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
        """Settle a whole batch in one database transaction (guarded: a confirmed job is never confirmed again)."""
        now = utcnow()
        chain_id = self.chain.chain_id()
        with Session(get_engine()) as session:
            done = 0
            for job, minted in confirmed:
                done += session.exec(
                    update(MintJob)
                    .where(MintJob.id == job.id, MintJob.status != MintJobStatus.confirmed)
                    .values(status=MintJobStatus.confirmed, tx_hash=minted.tx_hash, claimed_by=None,
                            claimed_until=None, last_error=None, updated_at=now)
                ).rowcount
                session.exec(
                    update(Work)
                    .where(Work.id == job.work_id,
                           col(Work.status).in_([WorkStatus.minting, WorkStatus.mint_failed]))
                    .values(status=WorkStatus.minted, owner_address=minted.to, mint_tx_hash=minted.tx_hash,
                            contract_address=self.chain.contract_address, chain_id=chain_id, minted_at=now,
                            mint_error=None, updated_at=now)
                )
            session.commit()
        if done:
            log.info("minted %d work(s) in %s", done, confirmed[0][1].tx_hash)

    def _retry_or_fail(self, jobs: list[MintJob], reason: str) -> None:
        now = utcnow()
        with Session(get_engine()) as session:
            for job in jobs:
                attempts = session.get(MintJob, job.id).attempts
                if attempts >= self.max_attempts:
                    session.exec(
                        update(MintJob)
                        .where(MintJob.id == job.id, MintJob.status != MintJobStatus.confirmed)
                        .values(status=MintJobStatus.failed, last_error=reason[:500], claimed_by=None,
                                claimed_until=None, updated_at=now)
                    )
                    session.exec(
                        update(Work)
                        .where(Work.id == job.work_id, Work.status == WorkStatus.minting)
                        .values(status=WorkStatus.mint_failed,
                                mint_error=f"Minting failed after {attempts} attempts: {reason}"[:500],
                                updated_at=now)
                    )
                else:
                    session.exec(
                        update(MintJob)
                        .where(MintJob.id == job.id, MintJob.status != MintJobStatus.confirmed)
                        .values(status=MintJobStatus.pending, last_error=reason[:500], claimed_by=None,
                                claimed_until=None, updated_at=now)
                    )
            session.commit()



# ---------------------------------------------------------------- the chain watcher's changes (marketplace.chain.watch)
def record_mint_block(session: Session, *, job_ids: list[int], block_number: int, block_hash: str | None,
                      tx_hash: str, moved_work_ids: list[int] = ()) -> None:
    """Where confirmed mints are on chain (re-verified until deep enough). moved_work_ids: works whose mint is now
    in another transaction than the one recorded (a reorg re-included it elsewhere)."""
    session.exec(update(MintJob).where(col(MintJob.id).in_(job_ids), MintJob.status == MintJobStatus.confirmed)
                 .values(block_number=block_number, block_hash=block_hash, tx_hash=tx_hash))
    if moved_work_ids:
        session.exec(update(Work).where(col(Work.id).in_(moved_work_ids), Work.status == WorkStatus.minted)
                     .values(mint_tx_hash=tx_hash))


def return_to_minting(session: Session, *, job_id: int, work_id: int, tx_hash: str | None, reason: str) -> bool:
    """The chain no longer holds this work's token: the work is `minting` again and its job `pending` (fresh
    attempts), so the worker mints it again. Never twice: the token id is the metadata digest and mintBatch skips
    ids that exist. Guarded on the confirmation it undoes. True when this call made the change."""
    now = utcnow()
    job_tx = MintJob.tx_hash == tx_hash if tx_hash else col(MintJob.tx_hash).is_(None)
    moved = session.exec(
        update(MintJob).where(MintJob.id == job_id, MintJob.status == MintJobStatus.confirmed, job_tx)
        .values(status=MintJobStatus.pending, tx_hash=None, nonce=None, attempts=0, submitted_at=None,
                block_number=None, block_hash=None, claimed_by=None, claimed_until=None, last_error=reason[:500],
                updated_at=now)
    ).rowcount
    if not moved:
        return False
    session.exec(update(Work).where(Work.id == work_id, Work.status == WorkStatus.minted).values(
        status=WorkStatus.minting, mint_tx_hash=None, minted_at=None, owner_address=None, mint_error=None,
        updated_at=now))
    log.warning("work %s: its token is gone from the chain; minting it again", work_id)
    return True
