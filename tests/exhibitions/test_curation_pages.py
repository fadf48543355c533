"""The curators' pages: an admin makes an exhibition on "New exhibition", finds published works on its curation page
and adds them, takes one out and changes its details, all through forms; the refusals come back on the page with
what to fix; anyone else is turned away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.moderation.conftest import Cast

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

TODAY = datetime.now(UTC).date()


def fields(**changes) -> dict:
    return {"slug": "open-studio-hollerich", "title": "Open studio in Hollerich",
            "text": "A company opens its studio.\nWorks by its designers.", "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + timedelta(days=3)).isoformat(), "place": "Hollerich", "event_kind": "open_studio",
            **changes}


def test_an_admin_curates_an_exhibition_through_the_pages(cast: Cast):
    first, second = cast.minted(title="Pfaffenthal lift"), cast.minted(title="Gëlle Fra at dawn")
    draft = cast.api.upload(cast.creator, title="Unpublished sketch").json()
    admin = cast.browser(cast.admin)
    listing = admin.get("/exhibitions")
    assert 'href="/exhibitions/new"' in listing.text
    assert 'href="/exhibitions/new"' not in cast.browser(cast.creator).get("/exhibitions").text

    # refusals on the form, nothing made
    for bad, field_name, message in (
            ({"slug": "Not A Slug"}, "slug", "lowercase letters"),
            ({"slug": "new"}, "slug", "lowercase letters"),
            ({"title": ""}, "title", "Please fill in this field."),
            ({"ends_on": (TODAY - timedelta(days=1)).isoformat()}, "ends_on", "must not be before the first"),
            ({"starts_on": "soon"}, "starts_on", "Enter a date."),
            ({"event_kind": "party"}, "event_kind", "Choose the kind of event.")):
        r = admin.post_form("/exhibitions/new", "/exhibitions", fields(**bad))
        assert r.status_code == 422, (bad, r.status_code)
        assert f'id="{field_name}-error"' in r.text and message in r.text, (bad, r.text[-2000:])
    assert cast.client.get("/api/exhibitions").json()["count"] == 0

    made = admin.post_form("/exhibitions/new", "/exhibitions", fields())
    assert made.status_code == 303 and made.headers["location"] == "/exhibitions/open-studio-hollerich/curate"
    again = admin.post_form("/exhibitions/new", "/exhibitions", fields())
    assert again.status_code == 409 and "Another exhibition has this address" in again.text
    detail = cast.client.get("/api/exhibitions/open-studio-hollerich").json()
    assert (detail["title"], detail["place"], detail["event_kind"], detail["works"]) == (
        "Open studio in Hollerich", "Hollerich", "open_studio", [])

    # the curation page offers published works only, and finds them by title
    page = admin.get("/exhibitions/open-studio-hollerich/curate")
    assert page.status_code == 200
    assert f'id="found-{first["id"]}"' in page.text and f'id="found-{second["id"]}"' in page.text
    assert f'id="found-{draft["id"]}"' not in page.text
    found = admin.get("/exhibitions/open-studio-hollerich/curate?q=Pfaffenthal")
    assert f'id="found-{first["id"]}"' in found.text and f'id="found-{second["id"]}"' not in found.text

    curate = "/exhibitions/open-studio-hollerich/curate"
    for work in (second, first):
        r = admin.post_form(curate, "/exhibitions/open-studio-hollerich/works", {"work_id": str(work["id"])})
        assert r.status_code == 303, r.text
    shown = cast.client.get("/api/exhibitions/open-studio-hollerich").json()
    assert [w["id"] for w in shown["works"]] == [second["id"], first["id"]]  # in the order they were added
    page = admin.get(curate)
    assert f'id="shown-{first["id"]}"' in page.text and f'id="found-{first["id"]}"' not in page.text
    # a draft, or a work shown already: the page says why, nothing changes
    for work_id, status in ((draft["id"], 409), (first["id"], 409), ("x", 422)):
        r = admin.post_form(curate, "/exhibitions/open-studio-hollerich/works", {"work_id": str(work_id)})
        assert r.status_code == status and 'role="alert"' in r.text, (work_id, r.status_code)
    assert cast.client.get("/api/exhibitions/open-studio-hollerich").json()["work_count"] == 2

    r = admin.post_form(curate, f"/exhibitions/open-studio-hollerich/works/{second['id']}/remove")
    assert r.status_code == 303
    assert [w["id"] for w in cast.client.get("/api/exhibitions/open-studio-hollerich").json()["works"]] == [
        first["id"]]

    # the details: saved, or refused with the stored ones kept
    late = (TODAY + timedelta(days=10)).isoformat()
    r = admin.post_form(curate, "/exhibitions/open-studio-hollerich/edit",
                        fields(title="Open studio, Hollerich", place="Rue de Hollerich 42", ends_on=late))
    assert r.status_code == 303
    r = admin.post_form(curate, "/exhibitions/open-studio-hollerich/edit",
                        fields(ends_on=(TODAY - timedelta(days=5)).isoformat()))
    assert r.status_code == 422 and 'id="ends_on-error"' in r.text
    detail = cast.client.get("/api/exhibitions/open-studio-hollerich").json()
    assert (detail["title"], detail["place"], detail["ends_on"]) == ("Open studio, Hollerich",
                                                                     "Rue de Hollerich 42", late)
    public = cast.client.get("/exhibitions/open-studio-hollerich")
    assert "Pfaffenthal lift" in public.text and "Gëlle Fra at dawn" not in public.text
    assert "/curate" not in public.text  # the public page has no curation link
    assert 'href="/exhibitions/open-studio-hollerich/curate"' in admin.get("/exhibitions/open-studio-hollerich").text


def test_only_admins_curate_and_the_pages_speak_french_and_german(cast: Cast):
    cast.client.post("/api/exhibitions", headers=cast.admin["headers"], json={
        "slug": "round-table", "title": "Digital design round table", "starts_on": TODAY.isoformat(),
        "ends_on": TODAY.isoformat()})
    anonymous = cast.browser(None)
    r = anonymous.get("/exhibitions/round-table/curate")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=/exhibitions/round-table/curate")
    assert anonymous.get("/exhibitions/new").status_code == 303
    for user in (cast.creator, cast.buyer):
        browser = cast.browser(user)
        assert browser.get("/exhibitions/new").status_code == 403
        assert browser.get("/exhibitions/round-table/curate").status_code == 403
    admin = cast.browser(cast.admin)
    assert admin.get("/exhibitions/nowhere/curate").status_code == 404
    for lang, words in (("fr", ("Nouvelle exposition", "Créer l'exposition")),
                        ("de", ("Neue Ausstellung", "Ausstellung anlegen"))):
        page = admin.get("/exhibitions/new", headers={"Accept-Language": lang}).text
        assert all(w in page for w in words), (lang, page[-1500:])
    for lang, word in (("fr", "Ajouter des œuvres"), ("de", "Werke hinzufügen")):
        assert word in admin.get("/exhibitions/round-table/curate", headers={"Accept-Language": lang}).text
    assert cast.client.post("/api/exhibitions", headers=cast.admin["headers"], json={
        "slug": "new", "title": "x", "starts_on": TODAY.isoformat(), "ends_on": TODAY.isoformat()}).status_code == 422
