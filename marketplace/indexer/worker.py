"""The indexer worker: follows our contracts' events into the database, block range by block range, and undoes
what a reorganisation (or a local chain restarted from an older state dump) took back.

Each step (run_once):

- checks the cursor's block is still the chain's: a height above the head, or another hash at that height, is a
  reorganisation. The stored blocks are walked back, newest first, to the first one the chain still has (the
  common ancestor; its ancestors are the chain's too, hashes chain them); everything above it is deleted, the
  owners of the tokens it touched derived again, and the next steps read the range again. No stored block left:
  everything is read again from INDEXER_FROM_BLOCK;
- reads the events of at most INDEXER_BLOCKS_PER_STEP blocks after the cursor, up to the head less
  INDEXER_CONFIRMATIONS blocks, with the headers of the blocks holding them (their time, and their hash checked
  against the events': a range read while the chain reorganised under it is dropped and read again), and checks
  the cursor's and the range end's blocks are still the chain's afterwards;
- stores them in one transaction (service.record_step): new events only (the unique key is (block hash, log
  index)), the owners, the transfer handlers, the cursor (compare-and-set).

The design follows the indexers of safe-transaction-service: a cursor per indexer, block hashes kept for the last
blocks a reorganisation may take, and a reorg step that finds the first block whose hash changed and resets every
indexed row above it. Gated by the chain watcher like the other chain workers: nothing is indexed from a chain
whose identity has not been checked (or is another chain).
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from marketplace.core.db import get_engine
from marketplace.indexer import service
from marketplace.indexer.service import Step
from marketplace.integrations.chain.client import BlockHeader, ChainClient
from marketplace.jobs.runner import BackgroundWorker

log = logging.getLogger(__name__)


class IndexerWorker(BackgroundWorker):
    kind = "indexer"
    chain_gate = None  # a ChainWatcher (services wire it): nothing is read before it says the chain is ours

    def __init__(self, *, chain: ChainClient, confirmations: int = 0, from_block: int = 0,
                 blocks_per_step: int = 2000, keep_blocks: int = 256, **settings) -> None:
        super().__init__(**settings)
        self.chain = chain
        self.confirmations = confirmations  # blocks under the head the indexer leaves unread
        self.from_block = from_block  # where reading starts (the contract's deployment block)
        self.blocks_per_step = blocks_per_step
        self.keep_blocks = keep_blocks  # block hashes are kept this far below the cursor (the reorg window)

    def run_once(self) -> int:
        """One step; returns how many blocks it read or undid (0: caught up, or not allowed to read)."""
        if self.chain_gate is not None and not self.chain_gate.writable:
            return 0
        if not self.scheduled_here():
            return 0  # another process indexes (one indexer across processes: its scheduler lock)
        return self.step()

    def chain_moved(self) -> None:
        """The chain watcher saw a rewind: the next step's check finds it; step at once."""
        self.wake()

    def catch_up(self, *, max_steps: int = 1000) -> int:
        """Step until there is nothing left to read (tests, and the first start): blocks read or undone."""
        total = 0
        for _ in range(max_steps):
            moved = self.step()
            if not moved:
                return total
            total += moved
        return total

    def step(self) -> int:
        contract = self.chain.contract_address
        with Session(get_engine(), expire_on_commit=False) as session:
            cursor = service.get_cursor(session)
            if cursor is not None and cursor.contract_address != contract:
                log.warning("indexer: the contract is %s, the index was read from %s: reading it again",
                            contract, cursor.contract_address)
                service.reset(session)
                session.commit()
                return 1
        head = self.chain.block_number()
        if not self._still_the_chains(cursor):
            return self._undo_reorg(cursor, head)
        start = cursor.block_number + 1 if cursor is not None else self.from_block
        end_number = min(head - self.confirmations, start + self.blocks_per_step - 1)
        if end_number < start:
            return 0
        read = self._read(start, end_number)
        if read is None:
            return 0  # the chain changed while it was read: the next step checks it and reads again
        if not self._still_the_chains(cursor):
            return 0  # the cursor's block went while the range was read: the next step undoes it
        with Session(get_engine(), expire_on_commit=False) as session:
            added = service.record_step(session, cursor=cursor, contract_address=contract, step=read,
                                        keep_blocks=self.keep_blocks)
            if added is None:
                session.rollback()  # another indexer stored this step first
                return 0
            session.commit()
        if added:
            log.info("indexer: blocks %s-%s, %s new events", start, end_number, added)
        return end_number - start + 1

    def _still_the_chains(self, cursor) -> bool:
        """Is the cursor's block the chain's block at its height? (No cursor, or one before any block: yes.)"""
        return cursor is None or not cursor.block_hash or self.chain.block_hash(cursor.block_number) == cursor.block_hash

    def _read(self, start: int, end_number: int) -> Step | None:
        """The events of [start, end_number] with their blocks' headers, or None when the chain moved meanwhile
        (a header whose hash is not its events', or the range's end block replaced)."""
        end = self.chain.header(end_number)
        if end is None:
            return None
        logs = self.chain.event_logs(start, end_number)
        headers: dict[int, BlockHeader] = {end_number: end}
        for chain_log in logs:
            header = headers.get(chain_log.block_number)
            if header is None:
                header = self.chain.header(chain_log.block_number)
                if header is None:
                    return None
                headers[header.number] = header
            if header.hash != chain_log.block_hash:
                return None
        if self.chain.block_hash(end_number) != end.hash:
            return None
        return Step(start=start, end=end, headers=headers, logs=logs)

    def _undo_reorg(self, cursor, head: int) -> int:
        with Session(get_engine(), expire_on_commit=False) as session:
            stored = service.recent_blocks(session, at_most=min(cursor.block_number, head), limit=self.keep_blocks)
        ancestor = next((b for b in stored if self.chain.block_hash(b.number) == b.hash), None)
        to_number, to_hash = ((ancestor.number, ancestor.hash) if ancestor is not None
                              else (self.from_block - 1, ""))
        with Session(get_engine(), expire_on_commit=False) as session:
            changed = service.rewind(session, cursor=cursor, to_number=to_number, to_hash=to_hash)
            if changed is None:
                session.rollback()
                return 0
            session.commit()
        log.warning("indexer: block %s (%s) is no longer the chain's: undid the blocks above %s, %s owners changed",
                    cursor.block_number, cursor.block_hash, to_number, len(changed))
        return max(1, cursor.block_number - to_number)
