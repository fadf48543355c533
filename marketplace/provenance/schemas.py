"""The shapes of a token's history and an account's activity (no tables: all of it is read from the index)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class HistoryKind(StrEnum):
    minted = "minted"  # from the zero address
    sold = "sold"  # the delivery of a sale here
    resold = "resold"  # the delivery of a resale here
    transferred = "transferred"  # any other move, made here or outside the marketplace
    withdrawn = "withdrawn"  # from an account's custody wallet to the wallet it linked


class HistoryEntry(BaseModel):
    kind: HistoryKind
    from_address: str
    to_address: str
    tx_hash: str
    block_number: int
    timestamp: datetime = Field(description="the block's time")
    price_cents: int | None = Field(default=None, description="what the sale cost (integer cents), for sold/resold")
    currency: str | None = None


class ActivityEntry(HistoryEntry):
    token_id: str = Field(description="the token's id, decimal")
    work_id: int | None = Field(default=None, description="the work the token is, when it was minted here")
    direction: str = Field(description="`in` (to one of the account's wallets) or `out` (from one)")


class ActivityPage(BaseModel):
    data: list[ActivityEntry]
    count: int
    page: int
    page_size: int
