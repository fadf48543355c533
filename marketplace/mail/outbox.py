"""Queue mails and write notices, in the caller's transaction (nothing here commits).

`queue_mail` writes an outbox row the mail worker sends after the caller commits; `notify` writes a notice for an
account and queues its mail. Adding a kind of notice is one call to `notify` with a new `kind` string (and its
texts marked with `_()`); nothing here lists the kinds."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, col, select

from marketplace.core.config import Settings
from marketplace.core.db import utcnow
from marketplace.jobs.runner import wake
from marketplace.mail.models import MailOutbox, MailStatus, Notice, NoticeList, NoticePublic

MAIL_WORKER = "mail"
_OUTBOX = MailOutbox.__table__
_NOTICES = Notice.__table__
MAX_SUBJECT = 300


def message_id(mail_from: str) -> str:
    """A Message-ID for a new outbox row: random, at the domain of the sender's address."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "marketplace.local"
    return f"<{secrets.token_hex(16)}@{domain}>"


@dataclass(frozen=True)
class Sender:
    """Who mails (the From address) and where the links point (the site's public base URL)."""

    mail_from: str
    base_url: str

    @classmethod
    def of(cls, settings: Settings) -> Sender:
        return cls(mail_from=settings.mail_from, base_url=settings.public_base_url.rstrip("/"))


# Plain INSERT statements, not the ORM's unit of work: queueing never flushes the caller's pending changes (those
# stay the caller's own writes, in its own statements).

def queue_mail(session: Session, *, to: str, subject: str, text: str, kind: str, mail_from: str) -> int:
    """One mail to `to`, sent after the caller's transaction commits (rolled back with it otherwise). Its id."""
    now = utcnow()
    return session.execute(insert(_OUTBOX).values(
        status=MailStatus.queued.value, to_address=to, subject=" ".join(subject.split())[:MAX_SUBJECT], body=text,
        kind=kind, message_id=message_id(mail_from), attempts=0, created_at=now, updated_at=now,
    ).returning(_OUTBOX.c.id)).scalar_one()


def notify(session: Session, *, user_id: int, email: str | None, kind: str, subject: str, text: str,
           link: str | None = None, params: dict | None = None, sender: Sender) -> int:
    """A notice for the account `user_id` (listed in its studio, counted unread in the header) and, when `email` is
    given, the same text mailed there with the link. In the caller's transaction; the mail leaves after it commits.
    `link`: a path on the site (`/purchases/3/receipt`); the mail gets it with the base URL in front. A new kind
    of notice is just a new `kind` string (and its texts, marked with texts._ for translation). The notice's id."""
    notice_id = session.execute(insert(_NOTICES).values(
        user_id=user_id, kind=kind, text=text, params=json.dumps(params or {}, default=str), link=link,
        created_at=utcnow()).returning(_NOTICES.c.id)).scalar_one()
    if email:
        body = text if not link else f"{text}\n\n{sender.base_url}{link}"
        queue_mail(session, to=email, subject=subject, text=body, kind=kind, mail_from=sender.mail_from)
    return notice_id


def wake_sender() -> None:
    """After the commit of queued mails: the mail worker of this process sends them now rather than at its next poll."""
    wake(MAIL_WORKER)


# ------------------------------------------------------------------------------------------------------ notices

def _public(notice: Notice) -> NoticePublic:
    try:
        params = json.loads(notice.params or "{}")
    except ValueError:
        params = {}
    return NoticePublic(id=notice.id, kind=notice.kind, text=notice.text, params=params, link=notice.link,
                        created_at=notice.created_at, read_at=notice.read_at)


def unread_count(session: Session, *, user_id: int) -> int:
    return session.exec(select(func.count()).select_from(Notice)
                        .where(Notice.user_id == user_id, col(Notice.read_at).is_(None))).one()


def list_notices(session: Session, *, user_id: int, limit: int = 50, offset: int = 0) -> NoticeList:
    rows = session.exec(select(Notice).where(Notice.user_id == user_id)
                        .order_by(col(Notice.id).desc()).offset(offset).limit(limit)).all()
    return NoticeList(unread=unread_count(session, user_id=user_id), notices=[_public(n) for n in rows])


def mark_read(session: Session, *, user_id: int, notice_id: int | None = None,
              now: datetime | None = None) -> int:
    """Mark one notice (or, without `notice_id`, all) of this account read; commits. Returns how many changed."""
    statement = update(Notice).where(col(Notice.user_id) == user_id, col(Notice.read_at).is_(None))
    if notice_id is not None:
        statement = statement.where(col(Notice.id) == notice_id)
    changed = session.execute(statement.values(read_at=now or utcnow())).rowcount
    session.commit()
    return changed


def notice_exists(session: Session, *, user_id: int, notice_id: int) -> bool:
    notice = session.get(Notice, notice_id)
    return notice is not None and notice.user_id == user_id


def forget(session: Session, *, user_id: int, email: str) -> tuple[int, int]:
    """Account deletion: the account's notices, and every mail to its address (sent or not: a mail still queued
    is not sent to an account that asked to be forgotten), go. Not committed: the caller's transaction. Returns
    (notices, mails) deleted."""
    notices = session.execute(delete(Notice).where(col(Notice.user_id) == user_id)).rowcount
    mails = session.execute(delete(MailOutbox).where(col(MailOutbox.to_address) == email)).rowcount
    return notices, mails


def export_of(session: Session, *, user_id: int) -> list[dict]:
    """The account's notices for its data export, oldest first."""
    rows = session.exec(select(Notice).where(Notice.user_id == user_id).order_by(col(Notice.id))).all()
    return [_public(n).model_dump(mode="json") for n in rows]
