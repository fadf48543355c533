"""Mint jobs: the durable record that a token must exist on chain, and how far we got.

pending -> submitted (tx signed, hash stored *before* it is sent) -> confirmed | failed.
A crash at any point leaves a row the worker can resume or reconcile against the chain; the token id is the
metadata digest, so the contract itself refuses to mint the same token twice.

A confirmed job goes back to pending when the chain no longer holds its token (a reorg, a local chain restarted from
an older state): see marketplace.chainwatch.watcher.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, String, Text
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow


class MintJobStatus(StrEnum):
    pending = "pending"
    submitted = "submitted"
    confirmed = "confirmed"
    failed = "failed"


class MintJob(SQLModel, table=True):
    __tablename__ = "mint_job"

    id: int | None = Field(default=None, primary_key=True)
    work_id: int = Field(foreign_key="work.id", unique=True)
    status: str = Field(default=MintJobStatus.pending.value, sa_type=String(16), index=True)  # a MintJobStatus value
    to_address: str = Field(max_length=42)
    metadata_digest: str = Field(max_length=66)  # 0x-prefixed 32 bytes; uint256(digest) is the token id
    royalty_receiver: str = Field(max_length=42)
    royalty_bps: int = 0
    # a co-created work's royalty split, JSON [[address, bps], ...] sorted by address (Splits' order): the worker
    # creates it on chain before its mint; royalty_receiver is its address. None: one creator's wallet
    royalty_split: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    tx_hash: str | None = Field(default=None, max_length=66, index=True)
    nonce: int | None = None
    attempts: int = 0
    replacements: int = 0  # fee-bumped re-sends of the current transaction (the worker's MAX_REPLACEMENTS)
    last_error: str | None = Field(default=None, max_length=500)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    submitted_at: datetime | None = None
    # where the mint landed, recorded by the chain watcher once it saw it on chain; re-verified until deep enough
    block_number: int | None = Field(default=None, index=True, sa_type=BigInteger)
    block_hash: str | None = Field(default=None, max_length=66)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
