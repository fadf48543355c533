"""The dev tools' mail sink for the tests: every app the tests make sends its mails over SMTP to one sink for the
session (`mail_sink`); a test that stops its mail server gets its own (`own_mail_sink`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from devtools.mail_sink import MailSink

LINK = re.compile(r"https?://\S+")


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.close()


@pytest.fixture
def own_mail_sink() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.close()


def link_in(mail: dict, path: str) -> str:
    """The URL in a mail whose path starts with `path` (e.g. "/reset-password")."""
    for url in LINK.findall(mail["text"]):
        if path in url:
            return url
    raise AssertionError(f"no {path} link in {mail['text']!r}")


def token_in(mail: dict, path: str) -> str:
    return link_in(mail, path).split("token=", 1)[1]
