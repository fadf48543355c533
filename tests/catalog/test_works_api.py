from __future__ import annotations

import hashlib
import io
import wave

import pytest
from PIL import Image
from sqlmodel import Session, select

from marketplace.catalog.models import Work
from marketplace.core import db
from tests.conftest import png_bytes

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def wav_bytes(seconds: float = 0.5) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * int(8000 * seconds))
    return buf.getvalue()


def count_works() -> int:
    with Session(db.get_engine()) as session:
        return len(session.exec(select(Work)).all())


def test_upload_image_creates_draft_with_media_on_ipfs(api, ipfs_client):
    creator = api.register(role="creator", name="Anna Schmit")
    content = png_bytes()
    r = api.upload(creator, content=content, title="Moselle Light")
    assert r.status_code == 201, r.text
    work = r.json()
    assert work["status"] == "draft"
    assert work["media_cid"].startswith("bafk")
    assert work["media_mime"] == "image/png"
    assert work["media_sha256"] == hashlib.sha256(content).hexdigest()
    assert work["creator"]["display_name"] == "Anna Schmit"
    assert work["token_id"] is None
    # the bytes on IPFS are the bytes uploaded, and the service serves them back
    assert ipfs_client.cat_bytes(work["media_cid"]) == content
    served = api.client.get(work["media_url"], headers=creator["headers"])  # a draft: its creator only
    assert served.status_code == 200
    assert served.content == content
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    # a real thumbnail, smaller than the original
    thumb = Image.open(io.BytesIO(ipfs_client.cat_bytes(work["thumbnail_cid"])))
    assert max(thumb.size) <= 640
    assert (work["width"], work["height"]) == (1200, 800)


def test_upload_audio_is_typed_from_bytes_not_name(api, ipfs_client):
    creator = api.register()
    r = api.upload(creator, content=wav_bytes(), filename="song.png", discipline="music")
    assert r.status_code == 201, r.text
    assert r.json()["media_mime"] in ("audio/wav", "audio/x-wav")
    assert r.json()["media_kind"] == "audio"
    assert r.json()["thumbnail_cid"] is None


@pytest.mark.parametrize("content,filename", [
    (b"<!doctype html><html><script>alert(1)</script></html>", "innocent.png"),
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "photo.jpg"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg"),
    (b"", "empty.png"),
])
def test_refused_types_are_415_and_create_nothing(api, content, filename):
    creator = api.register()
    r = api.upload(creator, content=content, filename=filename)
    assert r.status_code == 415, r.text
    assert r.json()["detail"]
    assert count_works() == 0


def test_oversize_upload_is_413_and_creates_nothing(make_client):
    from tests.conftest import Api

    api = Api(make_client(max_upload_bytes=200_000, max_cover_bytes=100_000))
    creator = api.register()
    image = png_bytes((1000, 1000))  # a real image, padded just past the limit (inside the form-overhead margin)
    payload = image + b"\x00" * max(0, 200_001 - len(image))
    r = api.upload(creator, content=payload)
    assert r.status_code == 413, r.text
    assert "limit" in r.json()["detail"]
    # far above the limit: refused while streaming, before the body is read whole
    r = api.upload(creator, content=b"\x89PNG" + b"\x00" * 3_000_000)
    assert r.status_code == 413
    assert count_works() == 0


@pytest.mark.parametrize("field,value", [
    ("discipline", "cooking"), ("license", "GPL-3.0"), ("royalty_bps", "2501"), ("royalty_bps", "-1"),
    ("price_cents", "0"), ("price_cents", "12.50"), ("currency", "USD"), ("title", ""),
])
def test_invalid_fields_are_422(api, field, value):
    creator = api.register()
    r = api.upload(creator, **{field: value})
    assert r.status_code == 422, r.text
    assert r.json()["detail"]
    assert count_works() == 0


def test_buyers_cannot_upload_and_anonymous_gets_401(api):
    buyer = api.register(role="buyer")
    assert api.upload(buyer).status_code == 403
    r = api.client.post("/api/works", data={"title": "x"}, files={"file": ("a.png", png_bytes())})
    assert r.status_code == 401


def test_ipfs_unreachable_is_503_and_creates_nothing(make_client):
    from devtools.procs import pick_free_port
    from tests.conftest import Api

    api = Api(make_client(ipfs_api_url=f"/ip4/127.0.0.1/tcp/{pick_free_port()}/http", ipfs_timeout_s=2))
    creator = api.register()
    r = api.upload(creator)
    assert r.status_code == 503, r.text
    assert "IPFS" in r.json()["detail"]
    assert count_works() == 0


def test_list_filters_sorting_and_pagination(api):
    anna = api.register(name="Anna Schmit")
    luc = api.register(name="Luc Weber")
    ids = {}
    for who, title, discipline, price, lic in [
        (anna, "River poster", "design", 1000, "CC-BY-4.0"),
        (anna, "Night photo", "photography", 5000, "personal-use"),
        (luc, "Fair theme", "music", 900, "CC0-1.0"),
        (luc, "Album cover", "design", 3000, "commercial-use"),
    ]:
        content = wav_bytes() if discipline == "music" else png_bytes(color=(price % 255, 10, 10))
        r = api.upload(who, content=content, title=title, discipline=discipline, price_cents=price, license=lic)
        assert r.status_code == 201, r.text
        ids[title] = r.json()["id"]

    # drafts are private: anonymous visitors see none, a creator sees their own
    assert api.client.get("/api/works").json()["count"] == 0
    mine = api.client.get("/api/works", headers=anna["headers"]).json()
    assert {w["title"] for w in mine["data"]} == {"River poster", "Night photo"}

    h = luc["headers"]
    get = lambda **params: api.client.get("/api/works", params=params, headers=h).json()  # noqa: E731
    assert [w["title"] for w in get(discipline="design")["data"]] == ["Album cover"]
    assert [w["title"] for w in get(q="FAIR")["data"]] == ["Fair theme"]
    assert get(creator="weber")["count"] == 2
    assert [w["title"] for w in get(sort="price_asc")["data"]] == ["Fair theme", "Album cover"]
    assert [w["title"] for w in get(min_price_cents=1000, max_price_cents=4000)["data"]] == ["Album cover"]
    page = get(sort="price_desc", page=2, page_size=1)
    assert page["count"] == 2 and [w["title"] for w in page["data"]] == ["Fair theme"]
    assert api.client.get("/api/works", params={"min_price_cents": 10, "max_price_cents": 5}).status_code == 422
    assert api.client.get("/api/works", params={"sort": "random"}).status_code == 422


def test_get_unknown_work_is_404(client):
    r = client.get("/api/works/999999")
    assert r.status_code == 404
    assert r.json()["detail"] == "Work 999999 not found"


def test_price_can_be_edited_by_its_creator_only(api):
    creator, other = api.register(), api.register()
    work = api.upload(creator).json()
    r = api.client.patch(f"/api/works/{work['id']}", json={"price_cents": 9900}, headers=creator["headers"])
    assert r.status_code == 200 and r.json()["price_cents"] == 9900
    r = api.client.patch(f"/api/works/{work['id']}", json={"price_cents": 1}, headers=other["headers"])
    assert r.status_code == 404  # a draft is private to its creator: another creator learns nothing of it
    r = api.client.patch(f"/api/works/{work['id']}", json={"price_cents": 0}, headers=creator["headers"])
    assert r.status_code == 422
