"""Audio and video works carry a cover image (`cover` next to `file` in POST /api/works): checked as image uploads
are, pinned on IPFS, the work's thumbnail, served at /ipfs like its media, and the token metadata's `image`.
Refusals are 422 at body.cover and leave nothing behind: no row, no staging file, nothing pinned."""

from __future__ import annotations

import io
import os
import wave

import pytest
from PIL import Image
from sqlmodel import Session, select

from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.integrations.ipfs.client import raw_cid_of_bytes
from tests.catalog.bombs import png_bomb
from tests.catalog.test_media import PDF_BYTES, SAFE_SVG, ebml
from tests.conftest import Api, png_bytes

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def wav(seconds: float = 0.3, *, noise: bool = False) -> bytes:
    """A WAV unlike any other in the session (so its CID was never pinned by another test)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        frames = int(8000 * seconds)
        w.writeframes(os.urandom(frames * 2) if noise else os.urandom(8) + b"\x01\x00" * (frames - 4))
    return buf.getvalue()


def cover_png(size=(1000, 1000)) -> bytes:
    """A real picture (a colour unique to this call), so its CID is new to the node."""
    return png_bytes(size, color=tuple(os.urandom(3)))


def jpeg(size=(1280, 720)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, tuple(os.urandom(3))).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def upload(api: Api, user: dict, *, content: bytes, filename: str, cover: tuple | None, **fields):
    data = {"title": "Schueberfouer Theme", "discipline": "music", "price_cents": "900", "license": "CC-BY-4.0",
            **{k: str(v) for k, v in fields.items()}}
    files = {"file": (filename, content, "application/octet-stream")}
    if cover is not None:
        files["cover"] = cover
    return api.client.post("/api/works", headers=user["headers"], data=data, files=files)


def work_count() -> int:
    with Session(db.get_engine()) as session:
        return len(session.exec(select(Work.id)).all())


def test_audio_and_video_carry_a_cover_served_at_ipfs_as_their_thumbnail(api, ipfs_client):
    creator = api.register(name="Luc Weber")
    cover = cover_png()
    r = upload(api, creator, content=wav(), filename="theme.wav", cover=("cover.png", cover, "image/png"))
    assert r.status_code == 201, r.text
    work = r.json()
    assert work["media_kind"] == "audio"
    assert work["cover_mime"] == "image/png" and work["cover_url"] == f"/ipfs/{work['cover_cid']}"
    assert (work["width"], work["height"]) == (None, None)  # the media's size; a cover's is not the work's
    assert ipfs_client.cat_bytes(work["cover_cid"]) == cover  # pinned as uploaded
    # the work's thumbnail is the cover's
    thumbnail = Image.open(io.BytesIO(ipfs_client.cat_bytes(work["thumbnail_cid"])))
    assert thumbnail.size == (640, 640)

    # served at /ipfs like the media: a draft's to its creator only
    served = api.client.get(work["cover_url"], headers=creator["headers"])
    assert served.status_code == 200 and served.content == cover
    assert served.headers["content-type"] == "image/png" and served.headers["x-content-type-options"] == "nosniff"
    assert api.client.get(work["thumbnail_url"], headers=creator["headers"]).headers["content-type"] == "image/webp"
    assert api.client.get(work["cover_url"]).status_code == 404
    assert api.client.get(work["thumbnail_url"]).status_code == 404
    assert api.client.get(f"/api/works/{work['id']}", headers=creator["headers"]).json()["cover_cid"] == \
        work["cover_cid"]

    video = upload(api, creator, content=ebml(b"webm") + os.urandom(16), filename="clip.webm", discipline="film",
                   cover=("poster.jpg", jpeg(), "image/jpeg"))
    assert video.status_code == 201, video.text
    assert video.json()["media_kind"] == "video" and video.json()["cover_mime"] == "image/jpeg"
    assert video.json()["thumbnail_cid"]

    # an SVG cover (safe, as image works may be): pinned and served as it is, no raster thumbnail
    svg = SAFE_SVG.replace("viewBox", f'data-n="{os.urandom(4).hex()}" viewBox', 1).encode()
    r = upload(api, creator, content=wav(), filename="svg.wav", cover=("c.svg", svg, "image/svg+xml"))
    assert r.status_code == 201, r.text
    assert r.json()["cover_mime"] == "image/svg+xml" and r.json()["thumbnail_cid"] is None
    assert api.client.get(r.json()["cover_url"], headers=creator["headers"]).content == svg


def test_the_minted_token_shows_the_cover_as_its_image_and_plays_the_media(api):
    creator = api.register(name="Luc Weber")
    r = upload(api, creator, content=wav(), filename="theme.wav", cover=("cover.png", cover_png(), "image/png"))
    assert r.status_code == 201, r.text
    work = r.json()
    assert api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
    minted = api.wait_for_status(work["id"], "minted")
    metadata = api.client.get(f"/ipfs/{minted['metadata_cid']}").json()
    # ERC-721 metadata: `image` what wallets show, `animation_url` what plays
    assert metadata["image"] == f"ipfs://{work['cover_cid']}"
    assert metadata["animation_url"] == f"ipfs://{work['media_cid']}"
    assert metadata["properties"]["cover"] == {"uri": f"ipfs://{work['cover_cid']}", "mime_type": "image/png"}
    # published: the cover and its thumbnail are public now
    assert api.client.get(work["cover_url"]).status_code == 200
    assert api.client.get(work["thumbnail_url"]).status_code == 200


class Refusal:
    def __init__(self, api: Api, ipfs_client) -> None:
        self.api = api
        self.ipfs = ipfs_client
        self.creator = api.register()
        self.staging = api.client.app.state.settings.media_dir / "staging"

    def assert_refused(self, r, *, says: str, status: int = 422, pinned: tuple[bytes, ...] = ()) -> None:
        assert r.status_code == status, r.text
        body = r.json()
        assert body["code"] == "invalid_input"
        [error] = body["detail"]
        assert error["loc"] == ["body", "cover"], error
        assert says in error["msg"], error["msg"]
        assert work_count() == 0
        assert not self.staging.exists() or list(self.staging.iterdir()) == []
        for content in pinned:  # small enough to be one raw block: its CID is known in advance
            assert len(content) <= 256 * 1024
            assert not self.ipfs.is_pinned(raw_cid_of_bytes(content))


@pytest.fixture
def refusal(api, ipfs_client) -> Refusal:
    return Refusal(api, ipfs_client)


@SQLITE_ONLY
def test_a_cover_is_refused_on_works_that_are_not_audio_or_video(refusal):
    cover = cover_png((200, 200))
    for content, filename in ((cover_png((300, 200)), "poster.png"), (PDF_BYTES + os.urandom(8), "book.pdf")):
        r = upload(refusal.api, refusal.creator, content=content, filename=filename, discipline="design",
                   cover=("cover.png", cover, "image/png"))
        refusal.assert_refused(r, says="A cover image is for audio and video works only", pinned=(content, cover))


@SQLITE_ONLY
@pytest.mark.parametrize("cover,says", [
    pytest.param(wav(), "The cover must be an image; this file is audio (audio/wav)", id="audio"),
    pytest.param(PDF_BYTES, "this file is document (application/pdf)", id="pdf"),
    pytest.param(b"<!doctype html><html><script>alert(1)</script></html>", "HTML documents are not accepted",
                 id="html-named-png"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "script",
                 id="svg-with-script"),
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "Windows executables", id="executable"),
    pytest.param(b"", "The file is empty", id="empty"),
])
def test_a_cover_that_is_not_an_accepted_image_is_refused(refusal, cover, says):
    media = wav()
    r = upload(refusal.api, refusal.creator, content=media, filename="theme.wav",
               cover=("cover.png", cover, "image/png"))
    refusal.assert_refused(r, says=says, pinned=(media,))
    assert "A cover is an image: PNG, JPEG, GIF, WebP, AVIF, TIFF or SVG" in r.json()["detail"][0]["msg"]


@SQLITE_ONLY
def test_a_corrupt_cover_is_refused(refusal):
    media = wav()
    r = upload(refusal.api, refusal.creator, content=media, filename="theme.wav",
               cover=("cover.png", png_bytes((300, 300))[:60], "image/png"))
    refusal.assert_refused(r, says="The cover is refused: This image is corrupt or truncated", pinned=(media,))


@SQLITE_ONLY
def test_a_cover_over_its_limits_is_refused(make_client, ipfs_client):
    refusal = Refusal(Api(make_client(max_cover_bytes=300_000, max_image_pixels=1_000_000)), ipfs_client)
    media = wav()
    too_heavy = png_bytes((400, 400)) + os.urandom(320_000)  # a real PNG (trailing bytes), over 0.3 MB
    r = upload(refusal.api, refusal.creator, content=media, filename="a.wav", cover=("c.png", too_heavy, "image/png"))
    refusal.assert_refused(r, says="The cover image is larger than the 0.3 MB limit", pinned=(media,))
    too_many_pixels = png_bytes((1200, 1000))  # 1.2 Mpx, a few kB
    r = upload(refusal.api, refusal.creator, content=media, filename="a.wav",
               cover=("c.png", too_many_pixels, "image/png"))
    refusal.assert_refused(r, says="This image is too large to process: 1200x1000 pixels", pinned=(media,))
    r = upload(refusal.api, refusal.creator, content=media, filename="a.wav", cover=("c.png", png_bomb(), "image/png"))
    refusal.assert_refused(r, says="too large to process", pinned=(media,))
    # and the same upload without the cover is fine
    r = upload(refusal.api, refusal.creator, content=media, filename="a.wav", cover=None)
    assert r.status_code == 201 and r.json()["cover_cid"] is None


@SQLITE_ONLY
def test_an_empty_cover_field_is_no_cover(api):
    creator = api.register()
    r = upload(api, creator, content=wav(), filename="a.wav", cover=("", b"", "application/octet-stream"))
    assert r.status_code == 201, r.text
    assert r.json()["cover_cid"] is None and r.json()["thumbnail_cid"] is None


@SQLITE_ONLY
def test_the_body_limit_makes_room_for_a_cover(make_client):
    """A file near its limit and a cover near its own fit in one request (the body cap counts both)."""
    api = Api(make_client(max_upload_bytes=2 * 1024 * 1024, max_cover_bytes=2 * 1024 * 1024))
    creator = api.register()
    media = wav(120, noise=True)  # 1.9 MB
    cover = Image.effect_noise((820, 820), 60).convert("RGB")
    buf = io.BytesIO()
    cover.save(buf, "PNG", compress_level=0)
    assert len(media) > 1.8e6 and 1.8e6 < len(buf.getvalue()) < 2 * 1024 * 1024
    r = upload(api, creator, content=media, filename="a.wav", cover=("c.png", buf.getvalue(), "image/png"))
    assert r.status_code == 201, r.text[:300]
    assert r.json()["cover_cid"]
