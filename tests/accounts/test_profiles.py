"""Profiles through the API and the pages (SQLite and PostgreSQL): edit and validation, the avatar (resized,
bombs and SVG refused), the creator page and Find creators by discipline, skill and location."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlmodel import Session, select

from marketplace.accounts.models import AccountProfile, ProfileTag
from marketplace.core import db
from tests.catalog.bombs import png_bomb
from tests.conftest import png_bytes

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

PROFILE = {
    "display_name": "Lena Weber", "bio": "Sound designer in Esch.\nFilm and games.", "location": "Esch-sur-Alzette",
    "links": ["https://lena.example.lu", "http://soundcloud.example.com/lena"],
    "disciplines": ["music", "games"], "skills": ["Sound design", "Foley", "mixing"],
}


def put(api, user, body):
    return api.client.put("/api/me/profile", headers=user["headers"], json=body)


def test_a_profile_is_saved_shown_and_replaced(api):
    user = api.register(role="creator", name="Lena")
    empty = api.client.get("/api/me/profile", headers=user["headers"]).json()
    assert empty == {"id": user["id"], "display_name": "Lena", "bio": "", "location": "", "links": [],
                     "disciplines": [], "skills": [], "avatar_cid": None, "avatar_url": None, "updated_at": None}
    r = put(api, user, PROFILE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["display_name"] == "Lena Weber" and body["bio"] == PROFILE["bio"]
    assert body["disciplines"] == ["music", "games"]  # in the list's order
    assert body["skills"] == ["foley", "mixing", "sound design"]  # lower-case, sorted
    assert api.client.get("/api/me", headers=user["headers"]).json()["display_name"] == "Lena Weber"
    assert api.client.get(f"/api/creators/{user['id']}").json() == body
    # PUT replaces: what is left out is emptied, the display name kept
    r = put(api, user, {"bio": "Just sound."})
    assert r.status_code == 200
    assert r.json()["display_name"] == "Lena Weber" and r.json()["skills"] == [] and r.json()["links"] == []
    with Session(db.get_engine()) as session:
        assert session.exec(select(ProfileTag).where(ProfileTag.account_id == user["id"])).all() == []
        assert session.get(AccountProfile, user["id"]).bio == "Just sound."


@pytest.mark.parametrize("change, where", [
    ({"links": ["javascript:alert(1)"]}, ["body", "links", 0]),
    ({"links": ["ftp://files.example.lu/x"]}, ["body", "links", 0]),
    ({"links": ["https://"]}, ["body", "links", 0]),
    ({"links": [f"https://example.lu/{i}" for i in range(6)]}, ["body", "links"]),
    ({"location": "Esch\x00"}, ["body", "location"]),
    ({"display_name": "Lena\u202e"}, ["body", "display_name"]),
    ({"bio": "a\x07b"}, ["body", "bio"]),
    ({"bio": "x" * 2001}, ["body", "bio"]),
    ({"location": "x" * 121}, ["body", "location"]),
    ({"skills": [f"skill {i}" for i in range(21)]}, ["body", "skills"]),
    ({"skills": ["x" * 41]}, ["body", "skills", 0]),
    ({"disciplines": ["cooking"]}, ["body", "disciplines", 0]),
    ({"display_name": "   "}, ["body", "display_name"]),
    ({"email": "new@example.lu"}, ["body", "email"]),
])
def test_a_bad_profile_is_refused_and_nothing_changes(api, change, where):
    user = api.register(role="creator", name="Lena")
    assert put(api, user, PROFILE).status_code == 200
    r = put(api, user, {**PROFILE, **change})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input"
    assert any(e["loc"] == where for e in r.json()["detail"]), r.json()
    assert api.client.get("/api/me/profile", headers=user["headers"]).json()["location"] == PROFILE["location"]


def test_only_the_signed_in_account_edits_its_own_profile(api):
    assert api.client.get("/api/me/profile").status_code == 401
    assert api.client.put("/api/me/profile", json=PROFILE).status_code == 401
    assert api.client.put("/api/me/avatar", files={"file": ("a.png", png_bytes((20, 20)), "image/png")}) \
        .status_code == 401
    buyer = api.register(role="buyer", name="Bob")
    assert put(api, buyer, PROFILE).status_code == 200  # a buyer has a profile too (not a public creator page)
    assert api.client.get(f"/api/creators/{buyer['id']}").status_code == 404


def test_an_avatar_is_resized_served_as_an_image_and_removed(api, ipfs_client):
    user = api.register(role="creator", name="Lena")
    r = api.client.put("/api/me/avatar", headers=user["headers"],
                       files={"file": ("me.png", png_bytes((1200, 800), (10, 120, 200)), "image/png")})
    assert r.status_code == 200, r.text
    url = r.json()["avatar_url"]
    assert url == f"/ipfs/{r.json()['avatar_cid']}"
    served = api.client.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (256, 171)  # longest side AVATAR_PX
    assert ipfs_client.is_pinned(r.json()["avatar_cid"])
    gone = api.client.delete("/api/me/avatar", headers=user["headers"])
    assert gone.status_code == 200 and gone.json()["avatar_url"] is None
    assert not ipfs_client.is_pinned(r.json()["avatar_cid"])


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')


@pytest.mark.parametrize("name, content, status, code, words", [
    ("bomb.png", png_bomb(), 415, "image_too_large", "40 megapixels"),
    ("me.svg", SVG, 415, "avatar_refused", "image/svg+xml"),
    ("me.png", SVG, 415, "avatar_refused", "image/svg+xml"),  # the name lies; the bytes decide
    ("me.png", b"<!doctype html><html><script>alert(1)</script></html>", 415, "unsupported_media_type", "avatar"),
    ("me.png", b"\x89PNG\r\n\x1a\nnot really", 415, "unsupported_media_type", "corrupt"),
])
def test_an_avatar_that_is_not_a_plain_image_is_refused_and_nothing_is_stored(api, name, content, status, code,
                                                                              words):
    user = api.register(role="creator", name="Lena")
    r = api.client.put("/api/me/avatar", headers=user["headers"], files={"file": (name, content, "image/png")})
    assert r.status_code == status, r.text
    assert r.json()["code"] in (code, "avatar_refused"), r.json()
    assert words in r.json()["detail"]
    assert api.client.get("/api/me/profile", headers=user["headers"]).json()["avatar_cid"] is None


def test_an_avatar_over_the_size_limit_is_a_413_naming_the_limit(make_client):
    client = make_client(max_avatar_bytes=50_000)
    from tests.conftest import Api
    api = Api(client)
    user = api.register(role="creator", name="Lena")
    big = png_bytes((400, 400), (1, 2, 3)) + b"\x00" * 60_000
    r = client.put("/api/me/avatar", headers=user["headers"], files={"file": ("me.png", big, "image/png")})
    assert r.status_code == 413, r.text
    assert "0.05 MB" in r.json()["detail"] or "MB limit" in r.json()["detail"]


def test_find_creators_by_discipline_skill_and_location(api):
    lena = api.register(role="creator", name="Lena")
    put(api, lena, PROFILE)
    marc = api.register(role="creator", name="Marc")
    put(api, marc, {"location": "Luxembourg City", "disciplines": ["architecture"], "skills": ["3D modelling"]})
    buyer = api.register(role="buyer", name="Lena the buyer")
    put(api, buyer, PROFILE)  # buyers are not found

    def names(**params):
        r = api.client.get("/api/creators", params=params)
        assert r.status_code == 200, r.text
        return [c["display_name"] for c in r.json()["data"]]

    assert names(skill="foley") == ["Lena Weber"]
    assert names(skill="SOUND") == ["Lena Weber"]
    assert names(skill="modelling") == ["Marc"]
    assert names(discipline="games") == ["Lena Weber"]  # from the profile, no work published
    assert names(discipline="architecture") == ["Marc"]
    assert names(location="esch") == ["Lena Weber"]
    assert names(location="luxembourg", skill="foley") == []
    assert names(skill="100%_") == []  # LIKE wildcards are literal
    card = api.client.get("/api/creators", params={"skill": "foley"}).json()["data"][0]
    assert card["location"] == "Esch-sur-Alzette" and card["skills"] == ["foley", "mixing", "sound design"]
    assert card["disciplines"] == ["music", "games"]
    # the page too
    page = api.client.get("/creators", params={"skill": "foley"})
    assert page.status_code == 200 and "Lena Weber" in page.text and "Marc" not in page.text
    page = api.client.get("/creators", params={"location": "Luxembourg"})
    assert "Marc" in page.text and "Lena Weber" not in page.text


def test_the_creator_page_shows_the_profile(api):
    lena = api.register(role="creator", name="Lena")
    put(api, lena, {**PROFILE, "bio": "Sound <b>designer</b>"})
    avatar = api.client.put("/api/me/avatar", headers=lena["headers"],
                            files={"file": ("me.png", png_bytes((300, 300)), "image/png")}).json()
    page = api.client.get(f"/creators/{lena['id']}")
    assert page.status_code == 200
    text = page.text
    assert "Lena Weber" in text and "Esch-sur-Alzette" in text
    assert "Sound &lt;b&gt;designer&lt;/b&gt;" in text  # escaped
    assert 'href="https://lena.example.lu"' in text and 'rel="nofollow noopener' in text
    assert "foley" in text and f'src="{avatar["avatar_url"]}"' in text
