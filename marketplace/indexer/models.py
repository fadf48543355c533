"""What the indexer keeps: the events of our contracts, the blocks they were read from (their hashes tell a
reorganisation), each token's owner as the events say, and how far it has read (one cursor row).

All of it is derived from the chain: deleting it only makes the indexer read the chain again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow


class IndexedBlock(SQLModel, table=True):
    """A block the indexer read events from (or ended a step at), kept while a reorganisation may still take it:
    a stored hash that the chain no longer has at that height is a reorganisation."""

    __tablename__ = "indexed_block"

    number: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: str = Field(max_length=66)
    parent_hash: str = Field(max_length=66)
    timestamp: datetime


class ChainEvent(SQLModel, table=True):
    """One event of our contracts. (block hash, log index) is its identity: a block read again adds nothing, and
    the same event in another block (after a reorganisation) is another row."""

    __tablename__ = "chain_event"
    __table_args__ = (
        UniqueConstraint("block_hash", "log_index", name="uq_chain_event_block_log"),
        Index("ix_chain_event_token_order", "token_id", "block_number", "log_index"),
    )

    id: int | None = Field(default=None, primary_key=True)
    block_number: int = Field(sa_type=BigInteger, index=True)
    block_hash: str = Field(max_length=66)
    log_index: int
    tx_hash: str = Field(max_length=66, index=True)
    contract_address: str = Field(max_length=42)
    event: str = Field(sa_type=String(64))  # the ABI's event name: Transfer, TokenRoyaltySet, SplitCreated ...
    token_id: str | None = Field(default=None, max_length=80)  # decimal, for events about one token
    from_address: str | None = Field(default=None, max_length=42, index=True)  # a Transfer's
    to_address: str | None = Field(default=None, max_length=42, index=True)
    args: str = Field(sa_column=Column(Text, nullable=False))  # every argument, as JSON
    timestamp: datetime  # the block's


class TokenOwner(SQLModel, table=True):
    """Who holds a token according to the indexed Transfer events (the latest one's receiver)."""

    __tablename__ = "token_owner"

    token_id: str = Field(sa_column=Column(String(80), primary_key=True))
    owner_address: str = Field(max_length=42, index=True)
    block_number: int = Field(sa_type=BigInteger)  # of the Transfer that gave it
    log_index: int
    updated_at: datetime = Field(default_factory=utcnow)


class IndexerCursor(SQLModel, table=True):
    """How far the indexer has read (one row): every event up to this block is indexed, read on the chain whose
    block at this height has this hash."""

    __tablename__ = "indexer_cursor"

    id: int = Field(default=1, primary_key=True)
    contract_address: str = Field(max_length=42)
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str = Field(max_length=66)
    reorgs: int = 0  # reorganisations (or rewinds of a local chain) undone so far
    updated_at: datetime = Field(default_factory=utcnow)
