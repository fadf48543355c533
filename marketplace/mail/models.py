"""The outbox of mails to send and the notices shown to an account."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow


class MailStatus(StrEnum):
    queued = "queued"  # waiting for the mail worker (or for its next attempt, after claimed_until)
    sent = "sent"  # the SMTP server accepted it
    failed = "failed"  # refused for good, or every attempt failed


class MailOutbox(SQLModel, table=True):
    """One mail to send. Written in the transaction of the change that causes it (a sign-up, a sale...): the mail
    goes out if and only if the change is committed. The Message-ID is fixed when the row is written, so a mail sent
    again after a crash between the SMTP server's acceptance and our commit carries the same Message-ID."""

    __tablename__ = "mail_outbox"

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default=MailStatus.queued.value, sa_type=String(16), index=True)  # a MailStatus value
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    message_id: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)  # what it is about: verify_email, password_reset, sale, ...
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Notice(SQLModel, table=True):
    """Something that happened to an account (a sale, an invitation, an award, a receipt...), in its language."""

    __tablename__ = "notices"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=40)
    text: str = Field(sa_column=Column(Text, nullable=False))
    params: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON object: the text's values
    link: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None


class NoticePublic(SQLModel):
    id: int
    kind: str
    text: str
    params: dict
    link: str | None
    created_at: datetime
    read_at: datetime | None


class NoticeList(SQLModel):
    unread: int
    notices: list[NoticePublic]
