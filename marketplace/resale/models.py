"""Listings: a token in a collector's custody wallet offered for sale again at a price in euros."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow


class ListingStatus(StrEnum):
    active = "active"  # on sale (a checkout may be pending: one at a time, the purchase's partial unique index)
    sold = "sold"  # delivered to a buyer (`sold_purchase_id`)
    withdrawn = "withdrawn"  # the token left the seller's custody wallet (`withdrawn_reason`)
    cancelled = "cancelled"  # the seller (or an admin) took it off sale


_ACTIVE_SQL = "status = 'active'"


class Listing(SQLModel, table=True):
    """One offer of a token (a unique work's, or an edition's) by the account whose custody wallet holds it. At most
    one active listing per token (a partial unique index)."""

    __table_args__ = (Index("uq_listing_active_token", "token_id", unique=True, sqlite_where=text(_ACTIVE_SQL),
                            postgresql_where=text(_ACTIVE_SQL)),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: str = Field(max_length=80, index=True)  # as purchases store token ids
    work_id: int = Field(foreign_key="work.id", index=True)
    seller_id: int = Field(foreign_key="account.id", index=True)
    seller_address: str = Field(max_length=42)  # the custody address holding the token when it was listed
    price_cents: int
    currency: str = Field(default="EUR", max_length=3)
    status: str = Field(default=ListingStatus.active.value, sa_type=String(16), index=True)
    sold_purchase_id: int | None = None
    withdrawn_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
