"""Text search over works (catalog.search), on SQLite (FTS5) and PostgreSQL (tsvector + GIN), through list_works.

Rows are written through the ORM as the app writes them; the databases' triggers keep the search index in step, so
every test also proves the index follows inserts, updates, renames and deletes."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from marketplace.accounts.models import Account
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import Work, WorkStatus
from marketplace.catalog.schemas import WorkFilters
from marketplace.core import db


def _account(session: Session, name: str, role: str = "creator") -> Account:
    account = Account(email=f"{name.split()[0].lower()}-{len(name)}@example.lu", display_name=name, role=role,
                      password_hash="!")
    session.add(account)
    session.commit()
    session.refresh(account)
    return account


def _work(session: Session, creator: Account, title: str, description: str = "",
          status: WorkStatus = WorkStatus.minted) -> Work:
    n = len(title) + len(description)
    work = Work(title=title, description=description, discipline="design", license="CC0-1.0", price_cents=1000,
                creator_id=creator.id, status=status, media_cid=f"bafkreitest{n}", media_mime="image/png",
                media_kind="image", media_size=10, media_sha256="0" * 64)
    session.add(work)
    session.commit()
    session.refresh(work)
    return work


@pytest.fixture
def catalog(db_url):
    """Three creators and five works (one a draft) in the test's database."""
    with Session(db.get_engine(), expire_on_commit=False) as session:
        anna = _account(session, "Anna Schmit")
        luc = _account(session, "Luc Weber")
        zoe = _account(session, "Zoé Müller")
        works = {
            "river": _work(session, anna, "River poster", "Blue water at dawn, printed on cotton paper"),
            "night": _work(session, anna, "Night photo", "Long exposure of the Moselle"),
            "fair": _work(session, luc, "Fair theme", "A tune for the Schueberfouer"),
            "ete": _work(session, zoe, "L'Été à Ostende", "Crème brûlée & sea salt"),
            "draft": _work(session, luc, "Secret river sketch", "unpublished", status=WorkStatus.draft),
        }
        yield {"session": session, "accounts": {"anna": anna, "luc": luc, "zoe": zoe}, "works": works}


def _titles(session: Session, q: str, viewer: Account | None = None, **filters) -> list[str]:
    rows, count = catalog_service.list_works(session=session, filters=WorkFilters(q=q, sort="title", **filters),
                                             viewer=viewer)
    assert count == len(rows)
    return [work.title for work, _ in rows]


def test_words_are_found_in_title_description_or_creator_name(catalog):
    s = catalog["session"]
    assert _titles(s, "poster") == ["River poster"]  # title
    assert _titles(s, "moselle") == ["Night photo"]  # description
    assert _titles(s, "weber") == ["Fair theme"]  # creator name
    assert _titles(s, "anna") == ["Night photo", "River poster"]


def test_search_ignores_case_and_accents(catalog):
    s = catalog["session"]
    assert _titles(s, "POSTER") == ["River poster"]
    assert _titles(s, "ete") == ["L'Été à Ostende"]
    assert _titles(s, "ÉTÉ") == ["L'Été à Ostende"]
    assert _titles(s, "creme brulee") == ["L'Été à Ostende"]
    assert _titles(s, "muller") == ["L'Été à Ostende"]  # the creator's name, accent folded


def test_every_word_must_match_somewhere_and_words_match_as_prefixes(catalog):
    s = catalog["session"]
    assert _titles(s, "river anna") == ["River poster"]  # title word + creator word
    assert _titles(s, "  water   DAWN ") == ["River poster"]
    assert _titles(s, "expos") == ["Night photo"]  # a word's beginning
    assert _titles(s, "river weber") == []  # both words exist, never in the same work
    assert _titles(s, "xylophone") == []
    assert _titles(s, "poster xylophone") == []
    assert _titles(s, "oster") == []  # inside a word: not a match


def test_drafts_stay_private_in_search(catalog):
    s, luc, anna = catalog["session"], catalog["accounts"]["luc"], catalog["accounts"]["anna"]
    assert _titles(s, "river") == ["River poster"]
    assert _titles(s, "river", viewer=anna) == ["River poster"]
    assert _titles(s, "river", viewer=luc) == ["River poster", "Secret river sketch"]


def test_search_combines_with_the_other_filters(catalog):
    s = catalog["session"]
    assert _titles(s, "river", creator="schmit") == ["River poster"]
    assert _titles(s, "river", creator="weber") == []
    assert _titles(s, "photo", max_price_cents=999) == []


def test_punctuation_and_query_syntax_are_plain_text(catalog):
    s = catalog["session"]
    # FTS5 / tsquery operators, quotes, LIKE wildcards: never an error, never a wildcard
    for q in ['"', "'", "*", "%", "_", "&", "|", "!", ":*", "(", "NEAR(", "\\", "-", "ri*", "%iver"]:
        titles = _titles(s, q)
        assert "Night photo" not in titles, q
    assert _titles(s, "l'été") == ["L'Été à Ostende"]
    assert _titles(s, "sea-salt") == ["L'Été à Ostende"]
    assert _titles(s, "brûlée&sea") == ["L'Été à Ostende"]
    assert _titles(s, "poster!") == ["River poster"]
    assert _titles(s, "(river)") == ["River poster"]
    # control and bidi characters never reach the database: the filters refuse them (422 at the API)
    for q in ("\x00", "\u202e", "river\x00poster"):
        with pytest.raises(ValueError):
            WorkFilters(q=q)


def test_the_index_follows_updates_renames_and_deletes(catalog):
    s, works, luc = catalog["session"], catalog["works"], catalog["accounts"]["luc"]
    night = works["night"]
    night.title, night.description = "Harbour lights", "Long exposure of the port"
    s.add(night)
    s.commit()
    assert _titles(s, "harbour") == ["Harbour lights"]
    assert _titles(s, "moselle") == []
    assert _titles(s, "night") == []

    luc.display_name = "Luc Kieffer"
    s.add(luc)
    s.commit()
    assert _titles(s, "kieffer") == ["Fair theme"]
    assert _titles(s, "weber") == []

    s.delete(works["fair"])
    s.commit()
    assert _titles(s, "kieffer") == []
    assert _titles(s, "tune") == []


def test_counts_match_the_pages(catalog):
    s = catalog["session"]
    rows, count = catalog_service.list_works(session=s, filters=WorkFilters(q="anna", page_size=1), viewer=None)
    assert count == 2 and len(rows) == 1
    rows, count = catalog_service.list_works(session=s, filters=WorkFilters(q="anna", page=2, page_size=1),
                                             viewer=None)
    assert count == 2 and [w.title for w, _ in rows] == ["River poster"]  # newest first


def test_public_shape_is_what_validation_would_build(catalog):
    """to_public skips re-validating database rows: its result equals the validated model, field for field."""
    from marketplace.catalog.models import WorkPublic

    s, works = catalog["session"], catalog["works"]
    works["night"].token_id, works["night"].metadata_cid = str(2**200 + 7), "bafkreimeta"
    s.add(works["night"])
    s.commit()
    for work in works.values():
        creator = s.get(Account, work.creator_id)
        public = catalog_service.to_public(work, creator)
        assert WorkPublic.model_validate(public.model_dump()) == public
        assert public.model_dump_json() == WorkPublic.model_validate(public.model_dump()).model_dump_json()
    night = catalog_service.to_public(works["night"], catalog["accounts"]["anna"])
    assert night.token_id == 2**200 + 7 and night.token_id_hex == f"0x{2**200 + 7:064x}"
    assert night.token_uri == "ipfs://bafkreimeta" and night.media_url == f"/ipfs/{works['night'].media_cid}"
    draft = catalog_service.to_public(works["draft"], catalog["accounts"]["luc"])
    assert draft.status == "draft" and draft.token_id is None and draft.token_uri is None
