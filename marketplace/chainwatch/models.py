"""The chain watcher's cursor: which chain our records were written to, and how far it has checked them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow


class ChainStatus(StrEnum):
    ok = "ok"  # the chain is the one our records were written to
    mismatch = "mismatch"  # another chain (chain id, genesis block or contract differ): the workers do not write


class ChainCheckpoint(SQLModel, table=True):
    """The chain watcher's cursor (one row): which chain our records live on, and the last block it checked."""

    __tablename__ = "chain_checkpoint"

    id: int = Field(default=1, primary_key=True)
    chain_id: int = Field(sa_type=BigInteger)
    genesis_hash: str = Field(max_length=66)
    contract_address: str = Field(max_length=42)
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str = Field(max_length=66)
    status: str = Field(default=ChainStatus.ok.value, sa_type=String(16))  # a ChainStatus value
    detail: str | None = Field(default=None, max_length=500)
    rewinds: int = 0  # rewinds seen so far (a reorg, or a local chain restarted from an older state)
    last_rewind_at: datetime | None = None
    last_rewind: str | None = Field(default=None, max_length=500)
    checked_at: datetime = Field(default_factory=utcnow)
