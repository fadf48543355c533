"""The gettext catalogues: complete in every shipped language, in step with the code and templates, compiled, and
formatted per locale (Babel). No app, no chain: these run in the fast suite."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from marketplace.catalog import media
from marketplace.catalog.models import WorkStatus
from marketplace.core.config import DISCIPLINES, LICENSES
from marketplace.payments.models import PurchaseStatus
from marketplace.web import labels
from marketplace.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR, LOCALES, Translator, negotiate
from marketplace.web.router import SORTS

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE]  # English is the message ids


def po(lang: str):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp, locale=lang)


def entry(message) -> tuple:
    """(context, id, translation), plural ids and translations as tuples (read_mo gives lists)."""
    def norm(value):
        return value if isinstance(value, str) else tuple(value)
    context = message.context.decode() if isinstance(message.context, bytes) else message.context  # read_mo: bytes
    return context, norm(message.id), norm(message.string)


def extracted() -> set[tuple]:
    """What `pybabel extract -F babel.cfg` finds in the code and templates as they are now."""
    method_map, options_map = parse_mapping_cfg((ROOT / "babel.cfg").open())
    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map, options_map, directory_filter=lambda path: _searched(Path(path))):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def _searched(path: Path) -> bool:
    relative = path.relative_to(ROOT)
    return relative.parts[0] in ("marketplace", "frontend") and not relative.name.startswith((".", "_"))


@pytest.mark.parametrize("lang", SHIPPED)
def test_every_message_is_translated_in_each_shipped_language(lang):
    catalog = po(lang)
    untranslated = [m.id for m in catalog if m.id and (
        "fuzzy" in m.flags or not (all(m.string) if isinstance(m.string, tuple) else m.string))]
    assert untranslated == []
    assert len(catalog) > 200
    # placeholders kept (%(name)s, %%), and one msgstr per plural form of the language
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == []
    plurals = [m for m in catalog if m.pluralizable]
    assert plurals and all(len(m.string) == catalog.num_plurals for m in plurals)


def test_no_message_of_the_code_or_templates_is_missing_from_the_catalogues():
    """New strings cannot slip through: what extraction finds now is in the committed .pot and in every .po
    (run `make messages`, then translate)."""
    found = extracted()
    assert len(found) > 200 and (None, "Buy for %(price)s") in found and ("date", "Minted") in found
    assert (None, labels.LABELS["discipline"]["music"]) in found  # N_-marked vocabulary
    with (LOCALE_DIR / "messages.pot").open("rb") as fp:
        template = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(fp) if m.id}
    assert found - template == set(), "the .pot is stale: run `make messages`"
    for lang in SHIPPED:
        ids = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in po(lang) if m.id}
        assert found - ids == set(), f"{lang}: run `make messages` and translate"
        assert ids - found == set(), f"{lang}: obsolete messages; run `make messages`"


@pytest.mark.parametrize("lang", SHIPPED)
def test_the_compiled_catalogue_is_the_po(lang):
    """The app reads the committed .mo: it must say what the .po says."""
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.mo").open("rb") as fp:
        compiled = {entry(m) for m in read_mo(fp) if m.id}
    assert compiled == {entry(m) for m in po(lang) if m.id}, "stale .mo: run `make messages`"


def test_messages_are_plain_text():
    """Jinja marks a translated message safe (it escapes only the values put into it), so no message, English or
    translated, may carry markup or a character that would end an HTML attribute."""
    for lang in SHIPPED:
        for m in (m for m in po(lang) if m.id):
            for text in (*_texts(m.id), *_texts(m.string)):
                assert not set(text) & set('<>&"'), (lang, text)


def _texts(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def test_every_code_shown_on_a_page_has_its_words():
    kinds = {info.kind for info in vars(media).values() if isinstance(info, media.MediaInfo)}
    vocabularies = {"discipline": DISCIPLINES, "license": LICENSES, "kind": kinds, "work_status": list(WorkStatus),
                    "purchase_status": list(PurchaseStatus), "sort": SORTS}
    for name, codes in vocabularies.items():
        assert set(labels.LABELS[name]) == {str(c) for c in codes}, name
    assert labels.ACCEPTED_SUMMARY == media.ACCEPTED_SUMMARY
    # the certificate's plain words: what a holder may and may not do, for every licence
    assert set(labels.LICENSE_TERMS) == set(LICENSES)
    assert all(terms["may"] and terms["may_not"] for terms in labels.LICENSE_TERMS.values())
    de = Translator("de")
    assert de.label("discipline", "digital-art") == "Digitale Kunst"
    assert de.label("purchase_status", "paid") == "Bezahlt, wird geliefert"
    assert de.label("discipline", "poetry") == "poetry"  # an unknown code shows as it is


def test_language_negotiation_cookie_then_accept_language():
    assert negotiate("fr-LU,fr;q=0.9,en;q=0.8") == "fr"
    assert negotiate("de-LU,de;q=0.9,en;q=0.5,fr;q=0.7") == "de"
    assert negotiate("lb, de;q=0.8, fr;q=0.7") == "de"  # no Luxembourgish yet: the next one the reader asked for
    assert negotiate("lb") == "en" and negotiate(None) == "en" and negotiate("*") == "en"
    assert negotiate("fr-BE;q=0.4, de-CH;q=0.6") == "de"
    assert negotiate("de_LU") == "de"
    assert negotiate("en-GB", cookie="de") == "de" and negotiate("de", cookie="xx") == "de"
    assert LOCALES == {"en": "en", "fr": "fr_LU", "de": "de_LU"}


def test_money_numbers_percentages_and_dates_per_locale():
    en, fr, de = Translator("en"), Translator("fr"), Translator("de")
    assert [t.money(123456) for t in (en, fr, de)] == ["€1,234.56", "1.234,56\xa0€", "1.234,56\xa0€"]
    assert en.money(2550) == "€25.50" and en.money(-500) == "-€5.00" and en.money(None) == ""
    assert [t.percent_bps(750) for t in (en, fr, de)] == ["7.5%", "7,5\xa0%", "7,5\xa0%"]
    assert en.percent_bps(1000) == "10%"
    assert [t.number("25.50") for t in (en, fr, de)] == ["25.50", "25,50", "25,50"]
    day = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert [t.date(day) for t in (en, fr, de)] == ["December 1, 2026", "1 décembre 2026", "1. Dezember 2026"]


def test_plural_forms_follow_each_language():
    works = ("%(num)s work", "%(num)s works")
    assert [Translator("en").ngettext(*works, n) for n in (0, 1, 3)] == ["0 works", "1 work", "3 works"]
    assert [Translator("fr").ngettext(*works, n) for n in (0, 1, 3)] == ["0 œuvre", "1 œuvre", "3 œuvres"]
    assert [Translator("de").ngettext(*works, n) for n in (0, 1, 3)] == ["0 Werke", "1 Werk", "3 Werke"]


def test_placeholders_are_filled_and_a_percent_sign_is_written_twice():
    de = Translator("de")
    assert de.gettext("Buy for %(price)s", price=de.money(4500)) == "Für 45,00\xa0€ kaufen"
    assert de.gettext("Enter a royalty between 0 and 25 %%.") == "Geben Sie eine Lizenzgebühr zwischen 0 und 25 % ein."
    assert Translator("en").gettext("At most %(max)s characters.", max=200) == "At most 200 characters."
    assert Translator("fr").pgettext("date", "Minted") == "Émis le"


def test_a_missing_compiled_catalogue_fails_loudly(monkeypatch, tmp_path):
    from marketplace.web import i18n

    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="No compiled catalogue for 'fr'"):
            Translator("fr")
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()
    assert Translator("fr").gettext("Gallery") == "Galerie"


def test_the_page_templates_render_in_every_language():
    """Every template compiles with the i18n extension in each language's environment."""
    from marketplace.web.templating import templates

    names = [p.relative_to(ROOT / "frontend" / "templates").as_posix()
             for p in (ROOT / "frontend" / "templates").rglob("*.html")]
    for lang in LANGUAGES:
        env = templates(lang).env
        for name in names:
            env.get_template(name)
