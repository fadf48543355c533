"""Accounts: users with a role and a custodial wallet address."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import EmailStr, field_validator
from sqlalchemy import JSON, Column, String, Text
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow
from marketplace.core.limits import MAX_DISPLAY_NAME_CHARS
from marketplace.core.text import Line


class Role(StrEnum):
    creator = "creator"
    buyer = "buyer"
    admin = "admin"


class AccountBase(SQLModel):
    email: str = Field(max_length=320, index=True, unique=True)
    display_name: str = Field(max_length=120)
    role: str = Field(default=Role.buyer.value, sa_type=String(16))  # a Role value


class Account(AccountBase, table=True):
    """A person using the marketplace. Table `account` (`user` is reserved in PostgreSQL)."""

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    # Custodial wallet: the key is derived from WALLET_SECRET and the account id, never stored.
    custodial_address: str | None = Field(default=None, max_length=42, unique=True, index=True)
    # An address of the user's own (signature proof comes in a later issue).
    linked_address: str | None = Field(default=None, max_length=42)
    created_at: datetime = Field(default_factory=utcnow)
    # Set when the account was deleted (anonymised: see marketplace/privacy); it cannot sign in again.
    deleted_at: datetime | None = Field(default=None)
    # issue 11: verification, language of mails, sign-out everywhere
    email_verified_at: datetime | None = None
    language: str = Field(default="en", max_length=8)  # the language of its mails (en, fr, de), from sign-up
    # access tokens carry the epoch they were made in; raising it signs out every session and token at once
    token_epoch: int = 0

    @property
    def wallet_address(self) -> str | None:
        return self.linked_address or self.custodial_address

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class AccountCreate(SQLModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=128)
    display_name: Line = Field(min_length=1, max_length=MAX_DISPLAY_NAME_CHARS)
    role: Role = Role.buyer
    language: Literal["en", "fr", "de"] = "en"  # the language of the account's mails

    @field_validator("password")
    @classmethod
    def _encodable(cls, value: str) -> str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("password must be valid Unicode text (no unpaired surrogates)") from None
        return value

    @field_validator("display_name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("display_name must not be blank")
        return value


class AccountPublic(SQLModel):
    id: int
    email: str
    display_name: str
    role: Role
    wallet_address: str | None
    custodial_address: str | None
    linked_address: str | None
    created_at: datetime
    email_verified: bool = False
    language: str = "en"


class CreatorPublic(SQLModel):
    id: int
    display_name: str
    wallet_address: str | None


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"


class RevokedToken(SQLModel, table=True):
    """An access token signed out before it expired (by its jti); kept until it would have expired anyway."""

    __tablename__ = "revoked_token"

    token_id: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(index=True)
    revoked_at: datetime = Field(default_factory=utcnow)


# ------------------------------------------------------------------------------------------------------- profiles
MAX_BIO_CHARS = 2000
MAX_LOCATION_CHARS = 120
MAX_LINKS = 5
MAX_LINK_CHARS = 500
MAX_SKILLS = 20
MAX_SKILL_CHARS = 40


class AccountProfile(SQLModel, table=True):
    """What a person tells about themselves: shown on their creator page and searched by Find creators. One row
    per account that filled it in (none: an empty profile). Its disciplines and skills are `profile_tag` rows."""

    __tablename__ = "account_profile"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    bio: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    location: str = Field(default="", max_length=MAX_LOCATION_CHARS)
    links: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # the avatar: a resized WebP (or JPEG) on IPFS, served at /ipfs/{cid}
    avatar_cid: str | None = Field(default=None, max_length=100, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class ProfileTag(SQLModel, table=True):
    """A discipline (`kind` "discipline", one of DISCIPLINES) or a skill (`kind` "skill", free words, stored
    lower-case for search) of a profile."""

    __tablename__ = "profile_tag"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    kind: str = Field(max_length=16, primary_key=True)
    value: str = Field(max_length=MAX_SKILL_CHARS, primary_key=True, index=True)


class LinkPurpose(StrEnum):
    verify_email = "verify_email"
    password_reset = "password_reset"
    email_change = "email_change"


class AccountLink(SQLModel, table=True):
    """A single-use link mailed to an account (verify its e-mail, reset its password, confirm a new e-mail). Only the
    SHA-256 of the link's secret is stored; a link is refused once used, expired, or replaced by a newer one."""

    __tablename__ = "account_link"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    purpose: str = Field(sa_type=String(24))  # a LinkPurpose value
    token_hash: str = Field(max_length=64, unique=True)
    new_email: str | None = Field(default=None, max_length=320)  # email_change: the address being confirmed
    expires_at: datetime
    used_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


# ------------------------------------------------------------------------------- own wallets (EIP-4361, SIWE)
class SiweNonce(SQLModel, table=True):
    """A nonce handed out by GET /api/auth/siwe/nonce for one Sign-In with Ethereum message: random, used at most
    once (a guarded update sets `used_at`), refused after `expires_at` (and purged then); tied to the account that
    asked (only signed-in accounts get one; a row without an account, from before, is never accepted)."""

    __tablename__ = "siwe_nonce"

    nonce: str = Field(primary_key=True, max_length=64)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class LinkedWallet(SQLModel, table=True):
    """An address of the account's own, proven by a signed EIP-4361 message (`via` "siwe"; "legacy": the single
    linked address accounts had before). An address is linked to one account at most."""

    __tablename__ = "linked_wallet"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    address: str = Field(max_length=42, unique=True)  # EIP-55 checksummed
    via: str = Field(default="siwe", max_length=16)
    linked_at: datetime = Field(default_factory=utcnow)


class LinkedWalletPublic(SQLModel):
    address: str
    via: str
    linked_at: datetime


class SiweNoncePublic(SQLModel):
    nonce: str
    expires_at: datetime
    domain: str = Field(description="the domain the message must name (EIP-4361 `domain`)")
    uri: str = Field(description="the URI the message must name (on this server's origin)")
    chain_id: int = Field(description="the chain id the message must name")


class WalletLink(SQLModel):
    message: str = Field(min_length=1, max_length=4000, description="the EIP-4361 message, as signed")
    signature: str = Field(min_length=2, max_length=2000, regex=r"^0x[0-9a-fA-F]*$",
                           description="the `personal_sign` signature (hex), or an EIP-1271 contract's")
