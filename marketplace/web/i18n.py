"""The pages' languages: English, French and German, as gettext catalogues read with Babel.

The language comes from a cookie (the switch) or Accept-Language. Message ids are the English text, so English
needs no catalogue; French and German live in `locale/<lang>/LC_MESSAGES/messages.po` beside this file (compiled
to the committed `.mo` that is read here; the README says how to add a string). Placeholders are `%(name)s` and
are always filled with `%`, as Jinja's newstyle gettext does in the templates, so a literal percent sign is
written `%%` in every message. Money, percentages, numbers and dates are formatted by Babel for the language's
locale: `en`, `fr_LU`, `de_LU`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import NullTranslations, Translations

from marketplace.web.labels import LABELS

LANGUAGES = ("en", "fr", "de")
DEFAULT_LANGUAGE = "en"  # the language of the message ids
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch"}
LOCALES = {"en": "en", "fr": "fr_LU", "de": "de_LU"}  # what Babel formats money, numbers and dates with
# Stripe Checkout's `locale` parameter for each language (Stripe's codes; its hosted page follows it).
CHECKOUT_LOCALES = {"en": "en", "fr": "fr", "de": "de"}
LANG_COOKIE = "mp_lang"
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of a language (English: none, the ids are English). A shipped language without its
    .mo is an error, not a silent fall back to English."""
    if lang == DEFAULT_LANGUAGE:
        return NullTranslations()
    mo = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.is_file():
        raise RuntimeError(f"No compiled catalogue for {lang!r} at {mo}: run `make messages`")
    with mo.open("rb") as fp:
        return Translations(fp, domain=DOMAIN)


def negotiate(accept_language: str | None, cookie: str | None = None) -> str:
    """The cookie (the switch) wins; then the first supported language in Accept-Language by q-value (`fr-LU`,
    `fr-BE` and `fr` all mean French)."""
    if cookie in LANGUAGES:
        return cookie
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for position, part in enumerate((accept_language or "").split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.replace("_", "-").split("-")[0]
        if primary in LANGUAGES and q > 0 and (q > best_q):
            best, best_q = primary, q - position * 1e-6  # equal q: the earlier one wins
    return best


class Translator:
    """One language's messages and formats, for Python code (`t.gettext(...)`) and templates (`t.money(...)`; the
    templates' `_()` and `ngettext()` come from the same catalogue, see templating.py)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.locale = Locale.parse(LOCALES[self.lang])
        self.translations = translations(self.lang)

    @property
    def checkout_locale(self) -> str:
        return CHECKOUT_LOCALES[self.lang]

    def gettext(self, message: str, **values: object) -> str:
        return self.translations.gettext(message) % values

    def ngettext(self, singular: str, plural: str, num: int, **values: object) -> str:
        return self.translations.ngettext(singular, plural, num) % {"num": num, **values}

    def pgettext(self, context: str, message: str, **values: object) -> str:
        return self.translations.pgettext(context, message) % values

    def label(self, vocabulary: str, code: str | None) -> str:
        """The word for a code of a vocabulary (discipline, license, kind, work_status, purchase_status, sort)."""
        message = LABELS[vocabulary].get(code or "")
        return self.gettext(message) if message else (code or "")

    def money(self, cents: int | None, currency: str = "EUR") -> str:
        if cents is None:
            return ""
        return format_currency(Decimal(int(cents)).scaleb(-2), currency.upper(), locale=self.locale)

    def percent_bps(self, bps: int | None) -> str:
        return format_percent(Decimal(bps or 0).scaleb(-4), locale=self.locale, decimal_quantization=False)

    def date(self, value: datetime | date | None) -> str:
        return format_date(value, format="long", locale=self.locale) if value is not None else ""

    def month(self, value: str) -> str:
        """A `YYYY-MM` month, short, in the language (Dec 2026, déc. 2026, Dez. 2026)."""
        year, _, number = value.partition("-")
        return format_date(date(int(year), int(number), 1), format="MMM y", locale=self.locale)

    def number(self, value: str | Decimal) -> str:
        """A euro amount for an input field, without grouping (25.50, or 25,50 in French and German)."""
        return format_decimal(Decimal(str(value)), format="0.00", locale=self.locale)
