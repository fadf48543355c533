"""Upload handling: type detection from bytes, size limits, thumbnails. Real files generated in each test."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
import wave
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image, features

from marketplace.catalog import media
from marketplace.catalog.media import MediaInfo, image_dimensions, make_thumbnail, sniff_file, stream_to_file
from marketplace.core.exceptions import PayloadTooLarge, UnsupportedMediaType


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def pillow_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: object) -> bytes:
    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else None)
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def wav_bytes() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 800)
    return out.getvalue()


MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 413  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: 417-byte frames


def mp3_bytes(*, id3: bool) -> bytes:
    frames = MP3_FRAME * 3
    if not id3:
        return frames
    title = b"\x03Nocturne"
    frame = b"TIT2" + struct.pack(">I", len(title)) + b"\x00\x00" + title  # ID3v2.4 frame (size < 128)
    header = b"ID3\x04\x00\x00" + bytes([0, 0, 0, len(frame)])
    return header + frame + frames


def glb_bytes(version: int = 2, document: dict | None = None) -> bytes:
    document = document or {"asset": {"version": "2.0"}, "scenes": [{"nodes": []}], "scene": 0}
    chunk = json.dumps(document).encode()
    chunk += b" " * (-len(chunk) % 4)
    body = struct.pack("<II", len(chunk), 0x4E4F534A) + chunk
    return b"glTF" + struct.pack("<II", version, 12 + len(body)) + body


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    payload = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(payload)) + b"ftyp" + payload + b"\x00\x00\x00\x08free"


def ebml(doctype: bytes) -> bytes:
    doctype_element = b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    children = b"\x42\x86\x81\x01" + doctype_element  # EBMLVersion 1, DocType
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(children)]) + children + b"\x18\x53\x80\x67\x01" + b"\x00" * 16


def ogg_page(packet: bytes) -> bytes:
    return b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" + b"\x00" * 8 + bytes([1, len(packet)]) + packet


PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


# --------------------------------------------------------------------------------------------------------------
# Accepted types, always judged from bytes (names here are deliberately misleading)
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(pillow_bytes("PNG"), media.PNG, id="png"),
        pytest.param(pillow_bytes("JPEG"), media.JPEG, id="jpeg"),
        pytest.param(pillow_bytes("GIF"), media.GIF, id="gif"),
        pytest.param(pillow_bytes("WEBP"), media.WEBP, id="webp"),
        pytest.param(pillow_bytes("TIFF"), media.TIFF, id="tiff"),
        pytest.param(wav_bytes(), media.WAV, id="wav"),
        pytest.param(mp3_bytes(id3=True), media.MP3, id="mp3-id3"),
        pytest.param(mp3_bytes(id3=False), media.MP3, id="mp3-frame-sync"),
        pytest.param(b"fLaC\x00\x00\x00\x22" + b"\x00" * 34, media.FLAC, id="flac"),
        pytest.param(ogg_page(b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00"), media.OGG, id="ogg-opus"),
        pytest.param(ogg_page(b"\x01vorbis" + b"\x00" * 22), media.OGG, id="ogg-vorbis"),
        pytest.param(ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), media.M4A, id="m4a"),
        pytest.param(ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), media.MP4, id="mp4-isom"),
        pytest.param(ftyp(b"mp42", b"mp42", b"mp41"), media.MP4, id="mp4-mp42"),
        pytest.param(ftyp(b"qt  ", b"qt  "), media.MOV, id="mov"),
        pytest.param(ftyp(b"avif", b"avif", b"mif1", b"miaf"), media.AVIF, id="avif"),
        pytest.param(ftyp(b"mif1", b"mif1", b"avif"), media.AVIF, id="avif-mif1-major"),
        pytest.param(ebml(b"webm"), media.WEBM, id="webm"),
        pytest.param(PDF_BYTES, media.PDF, id="pdf"),
        pytest.param(glb_bytes(), media.GLB, id="glb"),
        pytest.param(json.dumps({"asset": {"version": "2.0", "generator": "Blender"}}).encode(), media.GLTF, id="gltf"),
    ],
)
def test_sniff_file_detects_type_from_bytes_not_name(tmp_path: Path, data: bytes, expected: MediaInfo) -> None:
    assert sniff_file(write(tmp_path, "upload.html", data)) == expected


def test_sniff_file_detects_real_avif_from_pillow(tmp_path: Path) -> None:
    if not features.check("avif"):
        pytest.skip("this Pillow build cannot write AVIF")
    assert sniff_file(write(tmp_path, "x.png", pillow_bytes("AVIF"))) == media.AVIF


def test_media_info_kinds_and_extensions() -> None:
    assert (media.MP3.kind, media.MP3.extension, media.MP3.mime_type) == ("audio", "mp3", "audio/mpeg")
    assert (media.GLB.kind, media.GLTF.kind, media.PDF.kind, media.WEBM.kind) == ("model", "model", "document", "video")


# --------------------------------------------------------------------------------------------------------------
# Refused types
# --------------------------------------------------------------------------------------------------------------


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "hello")
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("cover.png", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "HTML"),
        ("cover.png", b"  <html><head><title>x</title></head></html>", "HTML"),
        ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "Windows executables"),
        ("track.mp3", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "ELF"),
        ("paper.pdf", zip_bytes(), "ZIP archives"),
        ("model.glb", gzip.compress(b"x" * 100), "Gzip"),
        ("run.png", b"#!/bin/sh\nrm -rf /\n", "Scripts"),
        ("notes.pdf", b"just some plain text, nothing else\n", "not recognised"),
        ("noise.bin", bytes(range(7, 256)) * 4, "not recognised"),
        ("data.gltf", b'{"name": "not a model"}', "JSON files other than glTF"),
        ("data.xml", b'<?xml version="1.0"?><note><to>x</to></note>', "XML documents other than SVG"),
        ("clip.mkv", ebml(b"matroska"), "Matroska"),
        ("photo.heic", ftyp(b"heic", b"mif1", b"heic"), "HEIC"),
        ("old.glb", glb_bytes(version=1), "only glTF 2.0"),
        ("scene.gltf", json.dumps({"asset": {"version": "1.0"}}).encode(), "only glTF 2.0"),
        (
            "scene.gltf",
            json.dumps({"asset": {"version": "2.0"}, "buffers": [{"uri": "scene.bin", "byteLength": 4}]}).encode(),
            "self-contained",
        ),
        ("movie.avi", b"RIFF\x00\x00\x00\x00AVI LIST" + b"\x00" * 32, "AVI"),
    ],
)
def test_sniff_file_refuses_with_a_clear_message(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(UnsupportedMediaType) as excinfo:
        sniff_file(write(tmp_path, name, data))
    assert message in excinfo.value.message
    assert excinfo.value.status_code == 415


def test_sniff_file_refuses_empty_file(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMediaType, match="empty"):
        sniff_file(write(tmp_path, "empty.png", b""))


def test_refusal_message_lists_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMediaType) as excinfo:
        sniff_file(write(tmp_path, "a.zip", zip_bytes()))
    assert "Accepted:" in excinfo.value.message and "PNG" in excinfo.value.message


# --------------------------------------------------------------------------------------------------------------
# SVG: only inert drawings
# --------------------------------------------------------------------------------------------------------------

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
PNG_DATA_URI = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

SAFE_SVG = f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" width="100" height="100" viewBox="0 0 100 100">
  <defs>
    <linearGradient id="g"><stop offset="0" stop-color="#0a5"/><stop offset="1" stop-color="#fa0"/></linearGradient>
    <style>.dot {{ fill: url(#g); stroke: url( '#g' ); }}</style>
  </defs>
  <metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>
  <g inkscape:label="Layer 1"><circle id="c" class="dot" cx="50" cy="50" r="40" style="fill:url(#g)"/></g>
  <use href="#c" x="5"/><use xlink:href="#c" y="5"/>
  <image width="1" height="1" href="{PNG_DATA_URI}"/>
  <a href="#c"><text x="10" y="90">Luxembourg</text></a>
</svg>
"""


def test_sniff_file_accepts_a_plain_safe_svg(tmp_path: Path) -> None:
    assert sniff_file(write(tmp_path, "logo.png", SAFE_SVG.encode())) == media.SVG
    bare = b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'
    assert sniff_file(write(tmp_path, "bare.svg", bare)) == media.SVG


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('<script>alert(document.cookie)</script>', id="script"),
        pytest.param('<script xlink:href="https://evil.example/x.js"/>', id="external-script"),
        pytest.param('<rect onclick="alert(1)"/>', id="onclick"),
        pytest.param('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>', id="fo"),
        pytest.param('<image href="https://tracker.example/pixel.png"/>', id="external-href"),
        pytest.param('<image xlink:href="//tracker.example/p.png"/>', id="protocol-relative-xlink"),
        pytest.param('<use href="sprites.svg#icon"/>', id="relative-file-href"),
        pytest.param('<a href="javascript:alert(1)"><text>x</text></a>', id="javascript-href"),
        pytest.param('<image href="data:text/html;base64,PHNjcmlwdD4="/>', id="data-html"),
        pytest.param('<image href="data:image/svg+xml;base64,PHN2Zy8+"/>', id="data-svg"),
        pytest.param('<rect style="fill: url(https://evil.example/x.svg#p)"/>', id="css-url-attr"),
        pytest.param('<rect fill="url(\'http://evil.example/p\')"/>', id="presentation-url"),
        pytest.param('<style>@import "https://evil.example/x.css";</style>', id="css-import"),
        pytest.param('<style>rect { background: url(http://evil.example/a.png) }</style>', id="css-url-style"),
        pytest.param('<style>rect { background: \\75 rl(http://evil.example/a.png) }</style>', id="css-escaped-url"),
        pytest.param('<a><set attributeName="href" to="javascript:alert(1)"/><text>x</text></a>', id="set-href"),
        pytest.param('<iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example"/>', id="iframe"),
        pytest.param('<h:p xmlns:h="http://www.w3.org/1999/xhtml">html</h:p>', id="xhtml-element"),
    ],
)
def test_sniff_file_refuses_unsafe_svg(tmp_path: Path, body: str) -> None:
    svg = f"{SVG_HEAD}{body}</svg>"
    with pytest.raises(UnsupportedMediaType) as excinfo:
        sniff_file(write(tmp_path, "art.svg", svg.encode()))
    assert "SVG images containing scripts or external references are not accepted" in excinfo.value.message


def test_sniff_file_refuses_svg_with_onload_on_root(tmp_path: Path) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
    with pytest.raises(UnsupportedMediaType, match="event handler"):
        sniff_file(write(tmp_path, "art.svg", svg))


def test_sniff_file_refuses_svg_with_doctype_entities(tmp_path: Path) -> None:
    lol = (
        b'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
    )
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>'
    )
    for data in (lol, xxe):
        with pytest.raises(UnsupportedMediaType, match="DOCTYPE"):
            sniff_file(write(tmp_path, "art.svg", data))


def test_sniff_file_refuses_svg_stylesheet_processing_instruction(tmp_path: Path) -> None:
    svg = b'<?xml-stylesheet href="https://evil.example/x.css"?><svg xmlns="http://www.w3.org/2000/svg"/>'
    with pytest.raises(UnsupportedMediaType, match="processing instruction"):
        sniff_file(write(tmp_path, "art.svg", svg))


def test_sniff_file_refuses_malformed_svg(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMediaType, match="not well-formed"):
        sniff_file(write(tmp_path, "art.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>'))


# --------------------------------------------------------------------------------------------------------------
# stream_to_file
# --------------------------------------------------------------------------------------------------------------


class RecordingReader(io.RawIOBase):
    """A source that produces `total` bytes and records every read size (so we see it is read in chunks)."""

    def __init__(self, total: int) -> None:
        self.remaining = total
        self.reads: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        self.reads.append(n)
        n = self.remaining if n < 0 else min(n, self.remaining)
        self.remaining -= n
        return b"\xab" * n


def test_stream_to_file_copies_in_chunks_and_hashes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # 1.28 MB
    stored = stream_to_file(io.BytesIO(data), tmp_path / "up.bin", max_bytes=2 * 1024 * 1024, chunk_size=64 * 1024)
    assert stored.path.read_bytes() == data
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()

    source = RecordingReader(300_000)
    stream_to_file(source, tmp_path / "up2.bin", max_bytes=10**6, chunk_size=65536)
    assert source.reads and all(n == 65536 for n in source.reads)


def test_stream_to_file_over_limit_deletes_partial_file(tmp_path: Path) -> None:
    dest = tmp_path / "big.bin"
    source = RecordingReader(3 * 1024 * 1024)
    with pytest.raises(PayloadTooLarge) as excinfo:
        stream_to_file(source, dest, max_bytes=2 * 1024 * 1024, chunk_size=256 * 1024)
    assert "larger than the 2 MB limit" in excinfo.value.message
    assert excinfo.value.status_code == 413
    assert not dest.exists()
    assert sum(source.reads) <= 2 * 1024 * 1024 + 256 * 1024  # stopped reading once over the limit


def test_stream_to_file_limit_message_uses_real_limit(tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLarge, match="50 MB limit"):
        stream_to_file(RecordingReader(50 * 1024 * 1024 + 1), tmp_path / "x", max_bytes=50 * 1024 * 1024)
    assert not (tmp_path / "x").exists()


def test_stream_to_file_exactly_at_limit_is_accepted(tmp_path: Path) -> None:
    stored = stream_to_file(io.BytesIO(b"x" * 1000), tmp_path / "x", max_bytes=1000, chunk_size=300)
    assert stored.size == 1000


# --------------------------------------------------------------------------------------------------------------
# Thumbnails and dimensions
# --------------------------------------------------------------------------------------------------------------


def jpeg_with_orientation(size: tuple[int, int], orientation: int) -> bytes:
    image = Image.new("RGB", size, (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def open_thumbnail(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_make_thumbnail_is_small_webp_rotated_by_exif(tmp_path: Path) -> None:
    path = write(tmp_path, "photo", jpeg_with_orientation((2000, 1000), orientation=6))  # rotate 90° to portrait
    info = sniff_file(path)
    thumb = make_thumbnail(path, info, max_px=640)
    assert thumb is not None
    image = open_thumbnail(thumb)
    assert image.format == ("WEBP" if features.check("webp") else "JPEG")
    assert image.size == (320, 640)
    assert image_dimensions(path, info) == (1000, 2000)


def test_make_thumbnail_keeps_transparency_and_never_upscales(tmp_path: Path) -> None:
    image = Image.new("RGBA", (100, 50), (255, 0, 0, 0))
    image.putpixel((1, 1), (0, 255, 0, 255))
    path = tmp_path / "a.png"
    image.save(path)
    thumb = open_thumbnail(make_thumbnail(path, media.PNG, max_px=640))
    assert thumb.size == (100, 50)
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((50, 25))[3] == 0


def test_make_thumbnail_handles_palette_and_16_bit_images(tmp_path: Path) -> None:
    gif = tmp_path / "a.gif"
    Image.new("P", (800, 400), 3).save(gif, transparency=3)
    assert open_thumbnail(make_thumbnail(gif, media.GIF)).size == (640, 320)

    grey16 = tmp_path / "g16.png"
    Image.new("I;16", (700, 700), 32768).save(grey16)  # mid grey in 16 bits
    thumb = open_thumbnail(make_thumbnail(grey16, media.PNG, max_px=100)).convert("RGB")
    r, g, b = thumb.getpixel((50, 50))
    assert 100 < r < 160 and r == g == b  # mid grey, not clipped to white


def test_make_thumbnail_returns_none_for_non_raster(tmp_path: Path) -> None:
    svg = write(tmp_path, "a.svg", SAFE_SVG.encode())
    pdf = write(tmp_path, "a.pdf", PDF_BYTES)
    wav = write(tmp_path, "a.wav", wav_bytes())
    for path in (svg, pdf, wav):
        info = sniff_file(path)
        assert make_thumbnail(path, info) is None
        assert image_dimensions(path, info) is None


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_make_thumbnail_refuses_decompression_bomb(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.png", png_header_only(60_000, 60_000))  # 3.6 gigapixels in 100 bytes
    info = sniff_file(path)
    assert info == media.PNG
    with pytest.raises(media.ImageTooLarge, match="the limit is 40 megapixels") as refused:
        make_thumbnail(path, info)
    assert (refused.value.status_code, refused.value.code) == (415, "image_too_large")
    with pytest.raises(media.ImageTooLarge, match="the limit is 40 megapixels"):
        image_dimensions(path, info)


def test_make_thumbnail_refuses_images_above_our_pixel_limit(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("1", (3000, 2000)).save(path)
    with pytest.raises(media.ImageTooLarge, match="3000x2000 pixels .* the limit is 5 megapixels"):
        make_thumbnail(path, media.PNG, max_pixels=5_000_000)
    with pytest.raises(media.ImageTooLarge, match="the limit is 5 megapixels"):
        image_dimensions(path, media.PNG, max_pixels=5_000_000)
    assert image_dimensions(path, media.PNG, max_pixels=6_000_000) == (3000, 2000)


def test_make_thumbnail_refuses_corrupt_image(tmp_path: Path) -> None:
    good = pillow_bytes("JPEG", size=(400, 400))
    path = write(tmp_path, "broken.jpg", good[:300])
    info = sniff_file(path)
    assert info == media.JPEG
    with pytest.raises(UnsupportedMediaType, match="corrupt"):
        make_thumbnail(path, info)


@pytest.fixture
def high_recursion_limit():
    import sys

    before = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)  # what py_ecc sets on import
    yield
    sys.setrecursionlimit(before)


def test_sniff_file_refuses_json_nested_deeper_than_the_c_stack(tmp_path: Path, high_recursion_limit) -> None:
    """200,000 nested brackets (400 kB): with the recursion limit py_ecc sets (100,000) json.loads would overflow
    the C stack and kill the process; refused from a non-recursive depth check instead, whatever the limit (the
    service puts it back to a sane value too: tests/test_deep_json.py)."""
    deep = b'{"asset": {"version": "2.0"}, "extras": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with pytest.raises(UnsupportedMediaType, match="not valid JSON glTF"):
        sniff_file(write(tmp_path, "deep.gltf", deep))
    deep += b" " * (-len(deep) % 4)
    glb = b"glTF" + struct.pack("<III", 2, 20 + len(deep), len(deep)) + b"JSON" + deep
    with pytest.raises(UnsupportedMediaType, match="unreadable JSON chunk"):
        sniff_file(write(tmp_path, "deep.glb", glb))
    shallow = b'{"asset": {"version": "2.0"}, "extras": ' + b"[" * 60 + b"]" * 60 + b"}"
    assert sniff_file(write(tmp_path, "ok.gltf", shallow)) == media.GLTF
