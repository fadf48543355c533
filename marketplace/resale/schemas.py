"""What the resale API reads and answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from marketplace.core.limits import MAX_PRICE_CENTS, Currency
from marketplace.resale.models import ListingStatus


class ListingCreate(BaseModel):
    price_cents: int = Field(gt=0, le=MAX_PRICE_CENTS, description="the price asked, in euro cents (VAT included)")


class ListingPublic(BaseModel):
    id: int
    token_id: str = Field(description="the token offered (decimal)")
    work_id: int
    seller_id: int
    seller_address: str = Field(description="the custody wallet holding the token")
    price_cents: int
    currency: Currency
    status: ListingStatus
    sold_purchase_id: int | None
    withdrawn_reason: str | None
    created_at: datetime
    updated_at: datetime


class ListingPage(BaseModel):
    data: list[ListingPublic]
    count: int
