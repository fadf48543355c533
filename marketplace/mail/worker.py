"""The mail worker: sends the outbox over SMTP, on the shared job helper (claim, retry later with backoff, settle).

Each outbox row is sent once as far as SMTP allows: it is claimed with a lease (no two workers hold it), marked
sent in the same step as the SMTP server's acceptance, and carries the Message-ID fixed when it was queued. A crash
after the server accepted and before the commit sends it again with the same Message-ID (receivers can tell). A
server that cannot be reached, or answers 4xx, is retried after a backoff that doubles (capped); a 5xx refusal or
`max_attempts` failures mark the row failed."""

from __future__ import annotations

import logging
import smtplib

from sqlalchemy import update
from sqlmodel import Session

from marketplace.core import db
from marketplace.core.db import utcnow
from marketplace.jobs import lease
from marketplace.jobs.runner import BackgroundWorker
from marketplace.mail.models import MailOutbox, MailStatus
from marketplace.mail.outbox import MAIL_WORKER
from marketplace.mail.sender import PermanentFailure, SmtpConfig, build_message, send

log = logging.getLogger(__name__)
_TABLE = MailOutbox.__table__


class MailWorker(BackgroundWorker):
    kind = MAIL_WORKER

    def __init__(self, *, smtp: SmtpConfig, **kwargs) -> None:
        super().__init__(**kwargs)
        self.smtp = smtp
        self.backoff = lease.Backoff(base_s=self.backoff.base_s, cap_s=300.0)

    def _ready(self):
        return (_TABLE.c.status == MailStatus.queued.value) & (_TABLE.c.attempts < self.max_attempts)

    def run_once(self) -> int:
        with Session(db.get_engine()) as session:
            if not lease.has_ready(session, _TABLE, ready=self._ready()):
                return 0
            mails = lease.claim(session, _TABLE, ready=self._ready(), worker=self.name, lease=self.lease,
                                limit=self.batch_size)
            session.commit()
        for mail in mails:
            self._send_one(mail)
        return len(mails)

    def _send_one(self, mail) -> None:
        message = build_message(mail_from=self.smtp.mail_from, to=mail.to_address, subject=mail.subject,
                                body=mail.body, message_id=mail.message_id)
        claimed = (_TABLE.c.claimed_by == self.name)
        with Session(db.get_engine()) as session:
            try:
                send(self.smtp, message)
            except PermanentFailure as exc:
                lease.settle(session, _TABLE, [mail.id], from_=[MailStatus.queued.value], to=MailStatus.failed.value,
                             attempts=mail.attempts + 1, last_error=str(exc)[:500], updated_at=utcnow())
                log.warning("mail %s to %s refused for good: %s", mail.id, mail.to_address, exc)
            except (OSError, smtplib.SMTPException) as exc:
                attempts = mail.attempts + 1
                if attempts >= self.max_attempts:
                    lease.settle(session, _TABLE, [mail.id], from_=[MailStatus.queued.value],
                                 to=MailStatus.failed.value, attempts=attempts, last_error=str(exc)[:500],
                                 updated_at=utcnow())
                else:
                    session.execute(update(_TABLE).where(_TABLE.c.id == mail.id).values(attempts=attempts))
                    lease.retry_later(session, _TABLE, [mail.id], attempts=attempts, backoff=self.backoff,
                                      error=f"{type(exc).__name__}: {exc}", where=claimed)
                log.info("mail %s not sent yet (attempt %s): %s", mail.id, attempts, exc)
            else:
                lease.settle(session, _TABLE, [mail.id], from_=[MailStatus.queued.value], to=MailStatus.sent.value,
                             attempts=mail.attempts + 1, sent_at=utcnow(), updated_at=utcnow())
            session.commit()
