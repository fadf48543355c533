"""Payouts through Stripe Connect ("separate charges and transfers"): each creator's connected account, and one
payout row per creator ledger entry (a sale's credit -> a transfer, a refund's reversal -> a transfer reversal),
written before Stripe is called, its idempotency key derived from it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow
from marketplace.core.limits import Currency


class AccountStatus(StrEnum):
    none = "none"  # no connected account yet
    onboarding = "onboarding"  # created; Stripe's onboarding not finished (details not submitted)
    enabled = "enabled"  # Stripe pays out to it: transfers go
    restricted = "restricted"  # details submitted but Stripe wants more (requirements due): transfers wait


class PayoutAccount(SQLModel, table=True):
    """A creator's Stripe connected account (Express) and its state as Stripe last reported it."""

    __tablename__ = "payout_account"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", unique=True)
    stripe_account_id: str = Field(max_length=255, unique=True)
    details_submitted: bool = False
    payouts_enabled: bool = False
    requirements_due: str = Field(default="", max_length=2000)  # comma-separated Stripe requirement names
    # the `created` time of the account.updated event last applied: older (reordered) events change nothing
    stripe_updated_at: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PayoutKind(StrEnum):
    transfer = "transfer"  # a credit paid to the connected account
    reversal = "reversal"  # a refund taking the purchase's transfer back


class PayoutStatus(StrEnum):
    pending = "pending"  # waiting: the hold, the creator's account, or the worker
    sending = "sending"  # written ahead: Stripe is (being) asked with this row's idempotency key
    paid = "paid"  # a transfer Stripe made
    reversed = "reversed"  # a reversal Stripe made
    offset = "offset"  # a transfer of 0: the credit paid back what a refused reversal left owing
    cancelled = "cancelled"  # refunded before it was transferred: neither the transfer nor its reversal happens
    failed = "failed"  # Stripe refused (a reversal: the creator owes it; later earnings pay it first)


class Payout(SQLModel, table=True):
    """One per (purchase, creator, kind): a sale's credit or its refund's reversal for one creator. `amount_cents`
    is the ledger entry's (signed: a reversal's is negative); `stripe_cents` what goes through Stripe (signed the
    same way), fixed when the row is written ahead of the call: a transfer may be less than its credit when the
    creator owes a refused reversal, a reversal takes back only what was transferred."""

    __table_args__ = (Index("uq_payout_purchase_account_kind", "purchase_id", "account_id", "kind", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    ledger_entry_id: int = Field(unique=True)  # not a foreign key: an undone delivery unbooks its entries
    purchase_id: int = Field(foreign_key="purchase.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(sa_type=String(16))
    status: str = Field(default=PayoutStatus.pending.value, sa_type=String(16), index=True)
    amount_cents: int
    stripe_cents: int | None = None
    currency: str = Field(default="EUR", max_length=3)
    due_at: datetime  # not transferred before (PAYOUT_HOLD_DAYS after it was earned)
    attempts: int = 0  # fresh attempts (each with its own idempotency key; a crash's retry reuses the key)
    stripe_transfer_id: str | None = Field(default=None, max_length=255)
    stripe_reversal_id: str | None = Field(default=None, max_length=255)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    settled_at: datetime | None = None

    @property
    def idempotency_key(self) -> str:
        """Stripe's idempotency key for this row's current attempt: the same after a crash, so Stripe returns the
        transfer (or reversal) it made instead of making a second one."""
        return f"payout-{self.id}-{self.kind}-{self.attempts}"


class PayoutTransferPublic(SQLModel):
    id: int
    amount_cents: int = Field(description="signed: a reversal is negative")
    currency: Currency
    purchase_id: int
    status: PayoutStatus
    created_at: datetime


class PayoutsPublic(SQLModel):
    """The signed-in creator's payouts: the connected account's state and the money, in integer cents."""

    account_status: AccountStatus
    details_submitted: bool = False
    payouts_enabled: bool = False
    requirements_due: list[str] = Field(default_factory=list)
    available_cents: int = Field(description="earned and due, not yet transferred (negative: owed back)")
    pending_cents: int = Field(description="earned, held until PAYOUT_HOLD_DAYS have passed")
    paid_cents: int = Field(description="transferred to the connected account, net of reversals")
    transfers: list[PayoutTransferPublic]


class OnboardingPublic(SQLModel):
    url: str = Field(description="Stripe's hosted onboarding for the creator's connected account (one use)")
