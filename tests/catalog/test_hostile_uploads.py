"""Hostile uploads through the API (`POST /api/works`): each gets a clear 4xx `{detail, code}`, nothing is stored
(no work row, an empty staging folder, nothing pinned on IPFS) and the server answers normally afterwards."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import pytest
from sqlmodel import Session, select

from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.integrations.ipfs.client import raw_cid_of_bytes
from tests.catalog.bombs import gif_animation, png_bomb, png_chunk, png_text_bomb
from tests.conftest import Api, png_bytes

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

BOUNDARY = "hostile-boundary-7f3a"
FIELDS = {"title": "Innocent", "discipline": "photography", "price_cents": "100", "license": "CC0-1.0"}


def nonce() -> str:
    return os.urandom(8).hex()


def multipart(file: bytes | None, *, filename: bytes = b"work.png", content_type: bytes = b"image/png",
              fields: dict[str, str] = FIELDS) -> bytes:
    """A multipart/form-data body written byte by byte (file names exactly as given, NUL included)."""
    out = bytearray()
    for name, value in fields.items():
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    if file is not None:
        out += (f"--{BOUNDARY}\r\n".encode() + b'Content-Disposition: form-data; name="file"; filename="' + filename
                + b'"\r\nContent-Type: ' + content_type + b"\r\n\r\n" + file + b"\r\n")
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


def work_count() -> int:
    with Session(db.get_engine()) as session:
        return len(session.exec(select(Work.id)).all())


class Hostile:
    def __init__(self, api: Api, ipfs_client) -> None:
        self.api = api
        self.ipfs = ipfs_client
        self.creator = api.register(role="creator")
        self.staging = api.client.app.state.settings.media_dir / "staging"

    def post(self, body: bytes | object, *, content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
             headers: dict | None = None):
        headers = {**self.creator["headers"], "Content-Type": content_type, **(headers or {})}
        return self.api.client.post("/api/works", content=body, headers=headers)

    def assert_refused(self, response, status: int, code: str, *, content: bytes | None = None) -> None:
        assert response.status_code == status, response.text[:500]
        body = response.json()
        assert set(body) == {"detail", "code"}, body
        assert body["code"] == code, body
        assert body["detail"], body
        self.assert_nothing_stored(content)

    def assert_nothing_stored(self, content: bytes | None = None) -> None:
        assert work_count() == 0
        assert not self.staging.exists() or list(self.staging.iterdir()) == []
        if content is not None and len(content) <= 256 * 1024:  # one raw block: its CID is known in advance
            assert not self.ipfs.is_pinned(raw_cid_of_bytes(content))
        assert self.api.client.get("/api/health").json() == {"status": "ok"}


@pytest.fixture
def hostile(api, ipfs_client) -> Hostile:
    return Hostile(api, ipfs_client)


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("model.gltf", '{"asset": {"version": "2.0"}, "nonce": "%s"}' % nonce())
    return out.getvalue()


def glb_with(document: bytes) -> bytes:
    document += b" " * (-len(document) % 4)
    return b"glTF" + struct.pack("<III", 2, 20 + len(document), len(document)) + b"JSON" + document


def png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + png_chunk(b"IEND", b""))


LYING_AND_SCRIPTED = {
    "html sent as image/png": (lambda: f"<!doctype html><html><script>alert(1)</script>{nonce()}</html>".encode(),
                               b"photo.png", b"image/png"),
    "bare script sent as image/png": (lambda: f"<script>fetch('/api/auth/me')</script><!--{nonce()}-->".encode(),
                                      b"photo.png", b"image/png"),
    "javascript sent as image/png": (lambda: f"alert(document.cookie) // {nonce()}".encode(), b"photo.png",
                                     b"image/png"),
    "zip named .glb": (zip_bytes, b"chair.glb", b"model/gltf-binary"),
    "windows executable named .png": (lambda: b"MZ\x90\x00" + os.urandom(200), b"photo.png", b"image/png"),
    "svg with script": (lambda: ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
                                 f"<!--{nonce()}--></svg>").encode(), b"logo.svg", b"image/svg+xml"),
    "svg with onload": (lambda: (f'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><!--{nonce()}-->'
                                 "</svg>").encode(), b"logo.svg", b"image/svg+xml"),
    "svg with foreignObject html": (lambda: ('<svg xmlns="http://www.w3.org/2000/svg"><foreignObject>'
                                             '<body xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script>'
                                             f"</body></foreignObject><!--{nonce()}--></svg>").encode(),
                                    b"logo.svg", b"image/svg+xml"),
    "svg with external image": (lambda: ('<svg xmlns="http://www.w3.org/2000/svg" '
                                         'xmlns:xlink="http://www.w3.org/1999/xlink"><image '
                                         f'xlink:href="https://evil.example/{nonce()}.png"/></svg>').encode(),
                                b"logo.svg", b"image/svg+xml"),
    "svg billion laughs": (lambda: ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
                                    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                                    f'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;{nonce()}</text></svg>'
                                    ).encode(),
                           b"logo.svg", b"image/svg+xml"),
    "gltf nested 200,000 deep": (lambda: b'{"asset":{"version":"2.0"},"x":' + b"[" * 200_000 + b"]" * 200_000
                                 + f',"n":"{nonce()}"}}'.encode(), b"scene.gltf", b"model/gltf+json"),
    "glb nested 200,000 deep": (lambda: glb_with(b'{"asset":{"version":"2.0"},"x":' + b"[" * 200_000
                                                 + b"]" * 200_000 + f',"n":"{nonce()}"}}'.encode()),
                                b"scene.glb", b"model/gltf-binary"),
    "truncated png": (lambda: png_bytes((400, 300), color=(1, 2, 3))[:200], b"photo.png", b"image/png"),
    "empty file": (lambda: b"", b"empty.png", b"image/png"),
}


@pytest.mark.parametrize("case", sorted(LYING_AND_SCRIPTED))
def test_lying_types_and_scripted_markup_are_415(hostile, case):
    make, filename, content_type = LYING_AND_SCRIPTED[case]
    content = make()
    r = hostile.post(multipart(content, filename=filename, content_type=content_type))
    hostile.assert_refused(r, 415, "unsupported_media_type", content=content)


def test_a_png_named_mp3_is_typed_from_its_bytes(hostile):
    """The name and the Content-Type a client sends are never trusted: a PNG called .mp3 is stored as a PNG."""
    content = png_bytes((300, 200), color=(9, 8, 7))
    r = hostile.post(multipart(content, filename=b"song.mp3", content_type=b"audio/mpeg"))
    assert r.status_code == 201, r.text
    work = r.json()
    assert (work["media_mime"], work["media_kind"]) == ("image/png", "image")
    served = hostile.api.client.get(work["media_url"], headers=hostile.creator["headers"])
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"


BOMBS = {
    "8900x8900 png (79 Mpx in 230 kB)": lambda: png_bomb(),
    "60000x60000 png header (Pillow's own bomb error)": lambda: png_header_only(60_000, 60_000),
    "10000x9000 png header (Pillow's bomb warning)": lambda: png_header_only(10_000, 9_000),
    "animated gif, 2000x2000 x 11 frames": lambda: gif_animation((2000, 2000), frames=11),
    "png text chunk inflating to 64 MB": lambda: png_text_bomb(),
    "png text chunk after the pixels": lambda: png_text_bomb(after_pixels=True),
}


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_pixel_and_decompression_bombs_are_refused(hostile, case):
    content = BOMBS[case]()
    r = hostile.post(multipart(content, filename=b"bomb.png"))
    hostile.assert_refused(r, 415, "image_too_large", content=content)
    assert "megapixels" in r.json()["detail"] or "decompression bomb" in r.json()["detail"]


FILENAMES = {
    "parent folders": b"../../etc/passwd",
    "absolute path": b"/etc/passwd",
    "windows parent folders": b"..\\..\\windows\\win.ini",
    "nul byte": b"photo.png\x00.exe",
    "control character": b"photo\x1b[31m.png",
    "right-to-left override": "photo\u202egnp.exe".encode(),
    "300 characters": b"x" * 296 + b".png",
    "dot dot": b"..",
}


@pytest.mark.parametrize("case", sorted(FILENAMES))
def test_path_tricks_in_file_names_are_422(hostile, case):
    content = png_bytes((64, 64), color=tuple(os.urandom(3)))
    r = hostile.post(multipart(content, filename=FILENAMES[case]))
    hostile.assert_refused(r, 422, "invalid_filename", content=content)
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "file"] and "Rename the file" in error["msg"]


def test_a_10000_character_file_name_is_refused(hostile):
    """So long that the multipart parser refuses the part's headers: 400, before the app sees the file."""
    content = png_bytes((64, 64), color=tuple(os.urandom(3)))
    r = hostile.post(multipart(content, filename=b"x" * 10_000 + b".png"))
    hostile.assert_refused(r, 400, "bad_request", content=content)


def test_unusual_but_plain_file_names_are_kept(hostile):
    name = "Sch\u00f6ne Gr\u00fc\u00dfe \u200b\U0001f469\u200d\U0001f4bb " + "\u00e9" * 200 + ".png"  # NFD-safe
    r = hostile.post(multipart(png_bytes((64, 64)), filename=name.encode()))
    assert r.status_code == 201, r.text
    with Session(db.get_engine()) as session:
        assert session.exec(select(Work.media_filename)).one() == name


def test_truncated_and_malformed_multipart_bodies_are_4xx(hostile):
    content = png_bytes((200, 200), color=(4, 5, 6))
    full = multipart(content)
    cases = {
        "cut inside the file": (full[: len(full) - 300], 422, "invalid_input"),
        "cut inside a part's headers": (full[: full.index(b'name="file"') + 5], 422, "invalid_input"),
        "no closing boundary": (full[: -len(f"--{BOUNDARY}--\r\n")], 422, "invalid_input"),
        "garbage": (os.urandom(2000), 400, "bad_request"),
        "only a boundary": (f"--{BOUNDARY}--\r\n".encode(), 422, "invalid_input"),
    }
    for label, (body, status, code) in cases.items():
        r = hostile.post(body)
        assert r.status_code == status, (label, r.text)
        assert r.json()["code"] == code, label
        hostile.assert_nothing_stored(content)
    r = hostile.post(full, content_type="multipart/form-data")  # no boundary
    assert (r.status_code, r.json()["code"]) == (400, "bad_request")
    hostile.assert_nothing_stored(content)


def test_a_body_far_over_the_upload_limit_is_413(make_client, ipfs_client):
    # the body cap is both limits (the media's and a cover's) plus the form's overhead
    hostile = Hostile(Api(make_client(max_upload_bytes=300_000, max_cover_bytes=100_000)), ipfs_client)
    big = b"\x89PNG\r\n\x1a\n" + os.urandom(5 * 1024 * 1024)
    body = multipart(big)
    r = hostile.post(body)  # announced by Content-Length: refused before reading
    hostile.assert_refused(r, 413, "payload_too_large")

    def chunked():  # no Content-Length: counted as it streams in
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    r = hostile.post(chunked())
    hostile.assert_refused(r, 413, "payload_too_large")
    # a file over the limit inside a body within the form overhead: refused while copied, the copy deleted
    r = hostile.post(multipart(b"\x89PNG\r\n\x1a\n" + os.urandom(600_000)))
    hostile.assert_refused(r, 413, "payload_too_large")
    assert "0.3 MB" in r.json()["detail"]


def test_the_server_still_uploads_normally_after_all_that(hostile):
    for make, filename, content_type in LYING_AND_SCRIPTED.values():
        assert hostile.post(multipart(make(), filename=filename, content_type=content_type)).status_code == 415
    assert hostile.post(multipart(png_bomb())).status_code == 415
    hostile.assert_nothing_stored()
    content = png_bytes((640, 480), color=(0, 163, 224))
    r = hostile.post(multipart(content))
    assert r.status_code == 201, r.text
    assert work_count() == 1
    assert hostile.ipfs.cat_bytes(r.json()["media_cid"]) == content
