"""Exhibitions: admins curate them (create, edit, add and remove works), anyone reads the list and each page; the
current ones are on the gallery's "Now showing" strip; a hidden work is left out; pages in EN, FR and DE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from marketplace.core import db
from marketplace.exhibitions.models import ExhibitionWork
from tests.moderation.conftest import Cast

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

TODAY = datetime.now(UTC).date()


def body(slug: str, *, starts: int = -1, ends: int = 2, **fields) -> dict:
    return {"slug": slug, "title": "Digital design round table", "text": "Works by the panel.\nSecond line.",
            "starts_on": (TODAY + timedelta(days=starts)).isoformat(),
            "ends_on": (TODAY + timedelta(days=ends)).isoformat(), "place": "Neimënster, Luxembourg",
            "event_kind": "round_table", **fields}


def create(cast: Cast, **kwargs):
    return cast.client.post("/api/exhibitions", headers=cast.admin["headers"], json=body(**kwargs))


def test_admins_curate_exhibitions_and_anyone_reads_them(cast: Cast):
    first, second = cast.minted(title="Kirchberg glass"), cast.minted(title="Clausen stairs")
    assert cast.client.post("/api/exhibitions", json=body("design")).status_code == 401
    for user in (cast.buyer, cast.creator):
        assert cast.client.post("/api/exhibitions", headers=user["headers"], json=body("design")).status_code == 403
    made = create(cast, slug="design-round-table")
    assert made.status_code == 201, made.text
    assert made.json()["is_current"] and made.json()["work_count"] == 0
    assert create(cast, slug="design-round-table").status_code == 409  # the slug is taken
    for bad in ({"slug": "Not A Slug"}, {"slug": "late", "starts": 3, "ends": 2}, {"slug": "x" * 81},
                {"slug": "kind", "event_kind": "party"}, {"slug": "long", "title": "t" * 201}):
        slug = bad.pop("slug")
        r = create(cast, slug=slug, **bad)
        assert r.status_code == 422, (bad, r.text)

    for work in (first, second, first):
        r = cast.client.post("/api/exhibitions/design-round-table/works", headers=cast.admin["headers"],
                             json={"work_id": work["id"]})
    assert r.status_code == 409  # first is in already
    assert cast.client.post("/api/exhibitions/design-round-table/works", headers=cast.creator["headers"],
                            json={"work_id": first["id"]}).status_code == 403
    detail = cast.client.get("/api/exhibitions/design-round-table").json()
    assert [w["id"] for w in detail["works"]] == [first["id"], second["id"]] and detail["work_count"] == 2

    # a work in several exhibitions
    create(cast, slug="open-studio", title="Open studio at Anna's", event_kind="open_studio", starts=10, ends=11)
    assert cast.client.post("/api/exhibitions/open-studio/works", headers=cast.admin["headers"],
                            json={"work_id": first["id"]}).status_code == 201
    with Session(db.get_engine()) as session:
        assert len(session.exec(select(ExhibitionWork).where(ExhibitionWork.work_id == first["id"])).all()) == 2

    # edits: the dates stay in order with the stored ones
    r = cast.client.patch("/api/exhibitions/open-studio", headers=cast.admin["headers"],
                          json={"ends_on": (TODAY + timedelta(days=5)).isoformat()})
    assert r.status_code == 422
    r = cast.client.put("/api/exhibitions/open-studio", headers=cast.admin["headers"],
                        json={"place": "Hollerich", "starts_on": (TODAY - timedelta(days=30)).isoformat(),
                              "ends_on": (TODAY - timedelta(days=29)).isoformat()})
    assert r.status_code == 200 and r.json()["place"] == "Hollerich" and not r.json()["is_current"]
    assert cast.client.patch("/api/exhibitions/nowhere", headers=cast.admin["headers"],
                             json={"place": "x"}).status_code == 404

    listing = cast.client.get("/api/exhibitions").json()
    assert listing["count"] == 2 and {e["slug"]: e["work_count"] for e in listing["data"]} == {
        "design-round-table": 2, "open-studio": 1}
    current = cast.client.get("/api/exhibitions?current=true").json()
    assert [e["slug"] for e in current["data"]] == ["design-round-table"] and current["count"] == 1
    assert [e["slug"] for e in cast.client.get("/api/exhibitions?current=false").json()["data"]] == ["open-studio"]

    # removing a work
    assert cast.client.delete(f"/api/exhibitions/open-studio/works/{first['id']}",
                              headers=cast.admin["headers"]).status_code == 204
    assert cast.client.delete(f"/api/exhibitions/open-studio/works/{first['id']}",
                              headers=cast.admin["headers"]).status_code == 404
    assert cast.client.get("/api/exhibitions/open-studio").json()["works"] == []


def test_a_hidden_work_is_left_out_of_exhibitions_and_the_gallery_links_the_current_one(cast: Cast):
    shown, hidden = cast.minted(title="Bock casemates"), cast.minted(title="Grund at night")
    create(cast, slug="festival-now", title="Design festival", event_kind="festival")
    create(cast, slug="fair-later", title="Autumn fair", event_kind="fair", starts=30, ends=32)
    for work in (shown, hidden):
        assert cast.client.post("/api/exhibitions/festival-now/works", headers=cast.admin["headers"],
                                json={"work_id": work["id"]}).status_code == 201
    assert cast.hide(hidden["id"]).status_code == 200
    detail = cast.client.get("/api/exhibitions/festival-now").json()
    assert [w["id"] for w in detail["works"]] == [shown["id"]] and detail["work_count"] == 1
    assert cast.client.post("/api/exhibitions/fair-later/works", headers=cast.admin["headers"],
                            json={"work_id": hidden["id"]}).status_code == 409
    page = cast.client.get("/exhibitions/festival-now")
    assert page.status_code == 200 and "Bock casemates" in page.text and "Grund at night" not in page.text
    assert "Neimënster, Luxembourg" in page.text

    gallery = cast.client.get("/")
    assert "Now showing" in gallery.text and 'href="/exhibitions/festival-now"' in gallery.text
    assert 'href="/exhibitions/fair-later"' not in gallery.text  # not on yet
    listing = cast.client.get("/exhibitions")
    assert 'href="/exhibitions/festival-now"' in listing.text and 'href="/exhibitions/fair-later"' in listing.text
    assert cast.client.get("/exhibitions/nowhere").status_code == 404
    assert cast.client.get("/api/exhibitions/nowhere").status_code == 404

    for lang, words in (("en", ("Exhibitions", "Works shown", "Festival")),
                        ("fr", ("Expositions", "Œuvres exposées", "Festival")),
                        ("de", ("Ausstellungen", "Gezeigte Werke", "Festival"))):
        headers = {"Accept-Language": lang}
        page = cast.client.get("/exhibitions/festival-now", headers=headers).text
        assert all(w in page for w in words[1:]), (lang, words)
        assert words[0] in cast.client.get("/exhibitions", headers=headers).text
    assert "À l'affiche" in cast.client.get("/", headers={"Accept-Language": "fr"}).text
    assert "Jetzt zu sehen" in cast.client.get("/", headers={"Accept-Language": "de"}).text
