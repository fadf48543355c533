"""Mails and notices in the account's language (EN/FR/DE), from the pages' gettext catalogues.

Message ids are English and marked with `_()` (so `make messages` extracts them like the pages' strings); they are
translated when the mail is queued, in the recipient's language: `translate(lang, _("..."), name=...)`. The
catalogues live beside the pages (marketplace/web/locale): read here as files, web is not imported."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.numbers import format_currency
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


_LOCALES = {"en": "en", "fr": "fr_LU", "de": "de_LU"}  # as the pages format money (marketplace/web/i18n.py)


def money(lang: str | None, cents: int, currency: str = "EUR") -> str:
    """Integer cents as the language writes them (EUR 25.00, 25,00 €); exact: cents / 100 has no rounding."""
    return format_currency(Decimal(int(cents)).scaleb(-2), currency.upper(), locale=_LOCALES[language(lang)])


def values_for(lang: str | None, params: dict) -> dict:
    """A notice's values for its text in one language: each `X_cents` gives `X`, formatted for it (`amount_cents`:
    `amount`)."""
    values = dict(params)
    for name, value in params.items():
        if name.endswith("_cents"):
            values[name.removesuffix("_cents")] = money(lang, int(value), str(values.get("currency", "EUR")))
    return values
