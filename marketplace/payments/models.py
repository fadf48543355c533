"""Purchases (one card payment for one work, or for an awarded call's budget), Stripe events seen, and the ledger
of who earned what."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Index, String, text
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow
from marketplace.core.limits import MAX_ADDRESS_CHARS, Currency

# What the buyer of a work agrees to before paying (EU Consumer Rights Directive, art. 16(m): digital content
# supplied at once, the withdrawal right lost with the buyer's express consent and acknowledgement). The pages show
# it translated (web/labels.py marks the same words for the catalogues) and the purchase records the words shown.
IMMEDIATE_SUPPLY_CONSENT = ("I ask for the work to be supplied to me immediately, before the 14-day withdrawal period "
                            "ends, and I acknowledge that I thereby lose my right of withdrawal.")


class PurchaseStatus(StrEnum):
    pending = "pending"  # checkout session open; the work is reserved for this buyer
    paid = "paid"  # money captured; delivery queued
    delivered = "delivered"  # the token is owned by the buyer's wallet on chain
    refunded = "refunded"  # money returned (delivery impossible, or refunded in Stripe)
    failed = "failed"  # the payment failed (async methods) or could not be refunded automatically
    expired = "expired"  # checkout session expired or cancelled; reservation released


# Purchases that hold a unique work (or a call's budget): at most one per work and per call, enforced by partial
# unique indexes. An edition (a work of several, `edition_number` set) is held the same way, one active purchase
# per (work, edition number). A call's purchase stays `paid`: nothing goes on chain for it.
ACTIVE_STATUSES = ("pending", "paid", "delivered")
_ACTIVE_SQL = "status IN ('pending', 'paid', 'delivered')"
# a resale (kind 'resale') holds its listing, not the work: one active purchase per listing
_UNIQUE_WORK_SQL = _ACTIVE_SQL + " AND edition_number IS NULL AND kind = 'primary'"
_EDITION_SQL = _ACTIVE_SQL + " AND edition_number IS NOT NULL"
_LISTING_SQL = _ACTIVE_SQL + " AND listing_id IS NOT NULL"


class PurchaseKind(StrEnum):
    primary = "primary"  # a first sale: the creator's work (or edition, or a call's budget)
    resale = "resale"  # a collector's token sold again through a listing (marketplace.resale)


def _active_unique(name: str, *columns: str, where: str = _ACTIVE_SQL) -> Index:
    return Index(name, *columns, unique=True, sqlite_where=text(where), postgresql_where=text(where))


class Purchase(SQLModel, table=True):
    """What one checkout buys: a work (`work_id`, its token delivered to `wallet_address`) or the budget of an
    awarded call (`call_id`, split between the team when paid). Exactly one of the two is set."""

    __table_args__ = (
        _active_unique("uq_purchase_active_work", "work_id", where=_UNIQUE_WORK_SQL),
        _active_unique("uq_purchase_active_edition", "work_id", "edition_number", where=_EDITION_SQL),
        _active_unique("uq_purchase_active_call", "call_id"),
        _active_unique("uq_purchase_active_listing", "listing_id", where=_LISTING_SQL),
        CheckConstraint("(work_id IS NULL) <> (call_id IS NULL)", name="ck_purchase_work_or_call"),
    )

    id: int | None = Field(default=None, primary_key=True)
    work_id: int | None = Field(default=None, foreign_key="work.id", index=True)
    call_id: int | None = Field(default=None, foreign_key="open_call.id", index=True)
    buyer_id: int = Field(foreign_key="account.id", index=True)
    status: str = Field(default=PurchaseStatus.pending.value, sa_type=String(16), index=True)
    amount_cents: int
    currency: str = Field(default="EUR", max_length=3)
    wallet_address: str | None = Field(default=None, max_length=42)  # where the token goes (a work's purchase)
    # which edition of a work of several this buys (1..edition_size; None: a unique work, or a call's budget); its
    # token is minted to the buyer at delivery, and `token_id` is that edition's
    edition_number: int | None = None
    # a resale: the listing it buys (its token is `token_id`, moved from the seller's custody wallet to the buyer)
    kind: str = Field(default=PurchaseKind.primary.value, sa_type=String(16),
                      sa_column_kwargs={"server_default": PurchaseKind.primary.value})
    listing_id: int | None = Field(default=None, foreign_key="listing.id", index=True)
    seller_id: int | None = Field(default=None, foreign_key="account.id")  # a resale's seller (a collector)
    # Stripe
    stripe_session_id: str | None = Field(default=None, max_length=255, unique=True)
    stripe_payment_intent_id: str | None = Field(default=None, max_length=255, index=True)
    stripe_charge_id: str | None = Field(default=None, max_length=255)  # the intent's latest_charge (transfers' source)
    checkout_url: str | None = Field(default=None, max_length=2000)
    expires_at: datetime | None = None
    # delivery (write-ahead like minting)
    token_id: str | None = Field(default=None, max_length=80)
    seller_address: str | None = Field(default=None, max_length=42)  # who signed the delivery: custody or operator
    delivery_tx_hash: str | None = Field(default=None, max_length=66)
    delivery_nonce: int | None = None
    delivery_attempts: int = 0
    delivery_submitted_at: datetime | None = None
    # where the delivery landed, recorded by the chain watcher; re-verified until deep enough
    delivery_block_number: int | None = Field(default=None, index=True, sa_type=BigInteger)
    delivery_block_hash: str | None = Field(default=None, max_length=66)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    # refunds: refund_reason set = a refund is owed; refund_id set = Stripe made it
    refund_reason: str | None = Field(default=None, max_length=500)
    refund_id: str | None = Field(default=None, max_length=255)
    failure_reason: str | None = Field(default=None, max_length=500)
    license_accepted_at: datetime | None = None  # the buyer confirmed having read the work's licence (the pages ask)
    # the buyer's express consent to immediate supply, acknowledging the loss of the withdrawal right (EU Consumer
    # Rights Directive, art. 16(m)): when, and the words they agreed to, in the language they read them in
    immediate_supply_consent_at: datetime | None = None
    immediate_supply_consent_text: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    paid_at: datetime | None = None
    delivered_at: datetime | None = None
    refunded_at: datetime | None = None


class StripeEvent(SQLModel, table=True):
    """Each Stripe event id once: a redelivered event changes nothing."""

    __tablename__ = "stripe_event"

    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    purchase_id: int | None = Field(default=None, index=True)
    outcome: str = Field(default="", max_length=200)
    received_at: datetime = Field(default_factory=utcnow)


class LedgerEntryType(StrEnum):
    sale_creator = "sale_creator"  # a creator's earnings from a sale (or a team member's share of a call's budget)
    sale_platform_fee = "sale_platform_fee"  # the platform's fee from a sale
    refund_creator = "refund_creator"  # reversal after a refund of a delivered sale
    refund_platform_fee = "refund_platform_fee"
    resale_seller = "resale_seller"  # what a resale's seller receives (price - royalty - fee)
    royalty_creator = "royalty_creator"  # a creator's part of a resale's royalty
    refund_seller = "refund_seller"  # reversals after a refund of a delivered resale
    refund_royalty = "refund_royalty"


class LedgerEntry(SQLModel, table=True):
    """Money in integer cents, signed. One entry of each type per purchase and account (a unique index; the platform's
    account is NULL, counted as 0 there), so booking twice is impossible."""

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("uq_ledger_purchase_type_account", "purchase_id", "entry_type",
                            text("coalesce(account_id, 0)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    purchase_id: int = Field(foreign_key="purchase.id", index=True)
    work_id: int | None = Field(default=None, foreign_key="work.id")  # None: a call's budget
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)  # None: the platform
    entry_type: str = Field(sa_type=String(32))
    amount_cents: int
    currency: str = Field(default="EUR", max_length=3)
    created_at: datetime = Field(default_factory=utcnow)


class PurchasePublic(SQLModel):
    id: int
    work_id: int | None = Field(description="the work bought (null for a call's budget)")
    call_id: int | None = Field(default=None, description="the call whose budget this pays (null for a work)")
    buyer_id: int
    status: PurchaseStatus
    amount_cents: int
    currency: Currency
    wallet_address: str | None
    edition_number: int | None = Field(default=None, description=(
        "the edition this purchase buys (1..edition_size of the work; null: a unique work or a call's budget)"))
    kind: PurchaseKind = Field(default=PurchaseKind.primary, description=(
        "`primary`: a first sale; `resale`: a collector's token bought through a listing"))
    listing_id: int | None = Field(default=None, description="a resale's listing (null: a first sale)")
    token_id: int | None
    delivery_tx_hash: str | None
    checkout_url: str | None
    expires_at: datetime | None
    failure_reason: str | None
    refund_id: str | None
    license_accepted_at: datetime | None
    immediate_supply_consent_at: datetime | None = Field(default=None, description=(
        "when the buyer consented to immediate supply and acknowledged losing the right of withdrawal"))
    immediate_supply_consent_text: str | None = Field(default=None, description="the words the buyer agreed to")
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    delivered_at: datetime | None
    refunded_at: datetime | None


class CheckoutCreate(SQLModel):
    wallet_address: str | None = Field(default=None, max_length=MAX_ADDRESS_CHARS,
                                       description=("the buyer's custody wallet or one of their linked wallets (GET /api/me/wallets), "
                                                    "else 422; default: the custody wallet the platform keeps for the buyer"))
    accept_license: bool = Field(default=False, description=(
        "the buyer has read the work's licence (GET /api/licenses: its terms at `url`); recorded on the purchase "
        "as `license_accepted_at`. Optional here, the pages always ask for it"))
    accept_immediate_supply: bool = Field(default=False, description=(
        "required, true: the buyer asks for the work to be supplied at once and acknowledges losing the 14-day "
        "right of withdrawal (EU Consumer Rights Directive, art. 16(m)): \"" + IMMEDIATE_SUPPLY_CONSENT + "\". Recorded on the "
        "purchase with its time (`immediate_supply_consent_at`, `immediate_supply_consent_text`); without it the "
        "checkout is refused (422) and nothing is reserved"))


class Earnings(SQLModel):
    account_id: int
    balance_cents: int
    currency: Currency


class LedgerEntryPublic(SQLModel):
    """One line of an account's ledger: what a sale (or its refund) credited or took back, in integer cents."""

    id: int
    work_id: int | None = Field(description="the work sold (null for a call's budget)")
    work_title: str | None = Field(description="the work's title (null for a call's budget)")
    call_id: int | None = Field(default=None, description="the open call whose budget this shares (null for a work)")
    call_title: str | None = Field(default=None, description="the call's title (null for a work)")
    purchase_id: int
    entry_type: LedgerEntryType
    amount_cents: int = Field(description="signed: a refund's reversal is negative")
    currency: Currency
    created_at: datetime


class LedgerPublic(SQLModel):
    data: list[LedgerEntryPublic]
    count: int
    page: int
    page_size: int


class CheckoutPublic(SQLModel):
    purchase_id: int
    checkout_url: str


class WithdrawalStatus(StrEnum):
    pending = "pending"  # asked for; the delivery worker sends it (its transaction written ahead in `tx_hash`)
    done = "done"  # the chain shows the token at `to_address`
    failed = "failed"  # the token was no longer in custody, or every attempt failed (`last_error` says why)
    cancelled = "cancelled"  # not sent: the account was deleted first


_PENDING_SQL = "status = 'pending'"


class TokenWithdrawal(SQLModel, table=True):
    """A token moved out of its holder's custody wallet to one of their linked wallets, at most one pending per
    token (a partial unique index). The delivery worker signs it with the custody key, records the transaction
    (`tx_hash`) before sending it, and settles it from the receipt or, after a crash, from the chain (`ownerOf`)."""

    __tablename__ = "token_withdrawal"
    __table_args__ = (_active_unique("uq_token_withdrawal_pending", "token_id", where=_PENDING_SQL),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    token_id: str = Field(max_length=80, index=True)
    from_address: str = Field(max_length=MAX_ADDRESS_CHARS)  # the custody wallet
    to_address: str = Field(max_length=MAX_ADDRESS_CHARS)  # a linked wallet of the account
    status: str = Field(default=WithdrawalStatus.pending.value, sa_type=String(16), index=True)
    tx_hash: str | None = Field(default=None, max_length=66)
    tx_nonce: int | None = None
    submitted_at: datetime | None = None
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None


class WithdrawalCreate(SQLModel):
    to_address: str = Field(min_length=1, max_length=MAX_ADDRESS_CHARS,
                            description="one of your linked wallets (GET /api/me/wallets)")


class WithdrawalPublic(SQLModel):
    id: int
    token_id: str = Field(description="the token moved (decimal)")
    to_address: str
    status: WithdrawalStatus
    tx_hash: str | None
    created_at: datetime
    done_at: datetime | None
