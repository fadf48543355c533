"""Mails and notices in the account's language (EN/FR/DE), from the pages' gettext catalogues.

Message ids are English and marked with `_()` (so `make messages` extracts them like the pages' strings); they are
translated when the mail is queued, in the recipient's language: `translate(lang, _("..."), name=...)`. The
catalogues live beside the pages (marketplace/web/locale): read here as files, web is not imported."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "fr", "de")
LOCALE_DIR = Path(__file__).resolve().parents[1] / "web" / "locale"


def _(message: str) -> str:
    """Marks a message id for extraction; translate() translates it."""
    return message


def language(value: str | None) -> str:
    return value if value in LANGUAGES else "en"


@cache
def _catalogue(lang: str) -> NullTranslations:
    mo = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.mo"
    if lang == "en" or not mo.is_file():
        return NullTranslations()
    with mo.open("rb") as fp:
        return Translations(fp, domain="messages")


def translate(lang: str | None, message: str, **values: object) -> str:
    return _catalogue(language(lang)).gettext(message) % values
