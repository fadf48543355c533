"""Sending one mail over SMTP (smtplib): the real code path in dev and tests too (the dev tools' mail sink)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from marketplace.core.db import utcnow


class PermanentFailure(Exception):
    """The server refused the mail for good (5xx): retrying would not help."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    mail_from: str = "Creative Marketplace <no-reply@marketplace.local>"
    timeout_s: float = 10.0


def build_message(*, mail_from: str, to: str, subject: str, body: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(utcnow())
    message.set_content(body)
    return message


def send(config: SmtpConfig, message: EmailMessage) -> None:
    """Deliver to the SMTP server; raises PermanentFailure on a 5xx refusal, OSError/SMTPException otherwise."""
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.user:
                smtp.login(config.user, config.password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            raise PermanentFailure(str(exc)) from exc
        raise
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentFailure(str(exc)) from exc
        raise
