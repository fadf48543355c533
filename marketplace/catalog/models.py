"""Works: a creator's digital work, its media on IPFS, its listing price and its token once minted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from marketplace.accounts.models import CreatorPublic
from marketplace.core.db import utcnow
from marketplace.core.limits import (
    MAX_EDITION_SIZE,
    MAX_MODERATION_REASON_CHARS,
    MAX_ROLE_CHARS,
    MAX_ROYALTY_BPS,
    Currency,
)


class WorkStatus(StrEnum):
    draft = "draft"
    minting = "minting"
    minted = "minted"
    mint_failed = "mint_failed"


class SaleStatus(StrEnum):
    available = "available"
    reserved = "reserved"  # a buyer's checkout is open or their payment is being delivered
    sold = "sold"
    withdrawn = "withdrawn"  # its token left the creator's custody wallet outside a sale (the chain index saw it)


class WorkBase(SQLModel):
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    discipline: str = Field(max_length=32)  # indexed with created_at and with price_cents (Work.__table_args__)
    license: str = Field(max_length=32)
    price_cents: int = Field(gt=0, index=True)
    currency: str = Field(default="EUR", max_length=3)
    royalty_bps: int = Field(default=0, ge=0, le=MAX_ROYALTY_BPS)
    # how many numbered editions are sold (1: a unique work, its one token minted to the creator's custody; more:
    # each sold edition is its own token, minted to its buyer at delivery)
    edition_size: int = Field(default=1, ge=1, le=MAX_EDITION_SIZE)


class Work(WorkBase, table=True):
    # the gallery's filters and sorts (full-text search lives outside the models: catalog/search.py)
    __table_args__ = (
        Index("ix_work_discipline_created_at", "discipline", "created_at"),
        Index("ix_work_discipline_price_cents", "discipline", "price_cents"),
        Index("ix_work_lower_title", text("lower(title)")),
        Index("uq_work_call_id", "call_id", unique=True),  # a work answers one call
    )

    id: int | None = Field(default=None, primary_key=True)
    creator_id: int = Field(foreign_key="account.id", index=True)
    status: str = Field(default=WorkStatus.draft.value, sa_type=String(16), index=True)  # a WorkStatus value
    # mirrors the purchases (the partial unique index on purchase is the real guard)
    sale_status: str = Field(default=SaleStatus.available.value, sa_type=String(16), index=True)
    sold_price_cents: int | None = None  # what the delivered purchase paid, while the work is sold
    # a work of several editions: how many are delivered and how many held by a checkout or a delivery under way
    # (mirrors of its purchases, like sale_status; a unique work derives them from sale_status)
    editions_sold: int = 0
    editions_reserved: int = 0

    # media, as uploaded (type decided from the bytes)
    media_cid: str = Field(max_length=100, index=True)  # /ipfs/{cid} looks works up by any of their CIDs
    media_mime: str = Field(max_length=100)
    media_kind: str = Field(max_length=16)
    media_size: int
    media_sha256: str = Field(max_length=64)
    media_filename: str = Field(default="", max_length=255)
    # images: a thumbnail of the image; audio and video: of their cover, if they have one
    thumbnail_cid: str | None = Field(default=None, max_length=100, index=True)
    width: int | None = None  # of the media (raster images); a cover's size is not the work's
    height: int | None = None
    # audio and video: the cover image as uploaded (type decided from the bytes), the token metadata's `image`
    cover_cid: str | None = Field(default=None, max_length=100, index=True)
    cover_mime: str | None = Field(default=None, max_length=100)

    # token (set when minting is requested / confirmed)
    metadata_cid: str | None = Field(default=None, max_length=100, index=True)
    # uint256 token id as decimal text: SQLite has no 256-bit integers
    token_id: str | None = Field(default=None, sa_column=Column(String(80), unique=True, nullable=True))
    contract_address: str | None = Field(default=None, max_length=42)
    chain_id: int | None = None
    owner_address: str | None = Field(default=None, max_length=42)
    mint_tx_hash: str | None = Field(default=None, max_length=66)
    mint_error: str | None = Field(default=None, max_length=500)
    minted_at: datetime | None = None
    # the token's EIP-2981 royalty receiver, set when minting is requested (None: no royalty): the creator's wallet,
    # or for a co-created work the Splits wallet paying its creators by share
    royalty_receiver: str | None = Field(default=None, max_length=42)
    # the open call this work was delivered for (the calls domain links it; one work per call)
    call_id: int | None = None
    # moderation (marketplace/moderation): set when an admin hides the work after a notice, with the reason its
    # creators are told; null: visible. A column, not derived from the decisions log, so every catalog query keeps
    # a plain `hidden_at IS NULL` on the row it reads already (no join, no subquery on the log)
    hidden_at: datetime | None = Field(default=None, index=True)
    hidden_reason: str | None = Field(default=None, max_length=MAX_MODERATION_REASON_CHARS)

    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class CollaboratorStatus(StrEnum):
    invited = "invited"  # asked to co-sign the work, not answered yet
    accepted = "accepted"  # the uploader always is
    declined = "declined"


class WorkCollaborator(SQLModel, table=True):
    """One creator of a co-created work: their share of what the work earns (basis points; a work's shares sum to
    10,000) and their role in words. The uploader is one of them (position 0, accepted); a work without rows is
    its uploader's alone. Owned by catalog/collaborators.py."""

    __tablename__ = "work_collaborator"
    __table_args__ = (UniqueConstraint("work_id", "account_id", name="uq_work_collaborator_work_account"),)

    id: int | None = Field(default=None, primary_key=True)
    work_id: int = Field(foreign_key="work.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    share_bps: int
    role: str = Field(max_length=MAX_ROLE_CHARS)
    status: str = Field(default=CollaboratorStatus.invited.value, sa_type=String(16))  # a CollaboratorStatus value
    position: int = 0  # the order the creators are named and split in (the uploader first: ties of rounding)
    invited_at: datetime = Field(default_factory=utcnow)
    responded_at: datetime | None = None


class CollaboratorPublic(SQLModel):
    user_id: int
    display_name: str
    share_bps: int = Field(description="share of what the work earns, in basis points (all creators: 10,000)")
    role: str
    status: CollaboratorStatus


class WorkPublic(WorkBase):
    currency: Currency
    id: int
    status: WorkStatus
    sale_status: SaleStatus
    sold_price_cents: int | None = Field(default=None, description="what the work sold for, once sold (integer "
                                         "cents of its currency)")
    editions_sold: int = Field(description="editions delivered to their buyers (a unique work: 0 or 1)")
    editions_available: int = Field(description=(
        "editions still for sale: edition_size minus those sold and those held by a checkout or a delivery under "
        "way (0: sold out)"))
    creator: CreatorPublic
    collaborators: list[CollaboratorPublic] = Field(
        description="every creator of the work, the uploader first (a single-creator work: the uploader, 10,000 bps)")
    media_cid: str
    media_url: str
    media_mime: str
    media_kind: str
    media_size: int
    media_sha256: str
    thumbnail_cid: str | None
    thumbnail_url: str | None
    width: int | None
    height: int | None
    cover_cid: str | None
    cover_mime: str | None
    cover_url: str | None
    metadata_cid: str | None
    token_id: int | None
    token_id_hex: str | None
    token_uri: str | None
    contract_address: str | None
    chain_id: int | None
    owner_address: str | None
    mint_tx_hash: str | None
    mint_error: str | None
    minted_at: datetime | None
    royalty_receiver: str | None = Field(default=None, description="the token's EIP-2981 royalty receiver once "
                                         "minting is requested (null: no royalty): the creator's wallet, or for a "
                                         "co-created work the split contract's wallet that pays every creator by share")
    call_id: int | None = Field(default=None, description="the open call this work was delivered for "
                                "(GET /api/calls/{id}), if any")
    hidden_at: datetime | None = Field(default=None, description="when moderation hid the work (only its creators "
                                       "and admins see a hidden work; null: visible)")
    hidden_reason: str | None = Field(default=None, description="why moderation hid it, as its creators were told")
    created_at: datetime
    updated_at: datetime


class CreatorCard(SQLModel):
    """A creator as "Find creators" shows them: who, and in which disciplines they have published."""

    id: int
    display_name: str
    disciplines: list[str] = Field(description="the disciplines of their published works, most works first")
    works_count: int = Field(description="their published works")
    location: str = Field(default="", description="where they work, as their profile says")
    skills: list[str] = Field(default_factory=list, description="their profile's skills")
    avatar_url: str | None = Field(default=None, description="their avatar image (/ipfs/{cid}), if any")


class CreatorsPublic(SQLModel):
    data: list[CreatorCard]
    count: int
    page: int
    page_size: int


class WorksPublic(SQLModel):
    data: list[WorkPublic]
    count: int
    page: int
    page_size: int
