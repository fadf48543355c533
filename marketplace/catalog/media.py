"""Upload handling: decide what a file is from its bytes, copy uploads with a size limit, make thumbnails.

Pure functions with no network access. The file name a browser sends is never trusted: `sniff_file` looks only
at the content. Anything that could run code in a visitor's browser (HTML, SVG with scripts or external
references) or on a machine (executables, archives) is refused with `UnsupportedMediaType`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import struct
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.parsers import expat

from PIL import Image, PngImagePlugin, UnidentifiedImageError, features

from marketplace.core.config import Settings
from marketplace.core.exceptions import InvalidInput, PayloadTooLarge, UnsupportedMediaType

ACCEPTED_SUMMARY = (
    "Accepted: images (PNG, JPEG, GIF, WebP, AVIF, TIFF, SVG without scripts), audio (MP3, WAV, FLAC, OGG, M4A), "
    "video (MP4, MOV, WebM), PDF documents and glTF 2.0 3D models (.glb, .gltf)."
)

# Audio and video carry no picture of their own: they may come with a cover image (an image work is its own cover;
# documents and models are shown by kind). Checked as image uploads are, at most MAX_COVER_BYTES.
COVER_KINDS = frozenset({"audio", "video"})
COVER_SUMMARY = "A cover is an image: PNG, JPEG, GIF, WebP, AVIF, TIFF or SVG without scripts."

# Images above MAX_IMAGE_PIXELS (a setting; all frames counted) are refused from their header, before decoding: a
# 300 kB PNG can decode to gigabytes. The setting stays below Pillow's own threshold (89.5 Mpx), where Pillow warns;
# that warning is an error here, so nothing past it is ever decoded whatever the caller passes.
DEFAULT_MAX_IMAGE_PIXELS: int = Settings.model_fields["max_image_pixels"].default
DEFAULT_IMAGE_WORK_CONCURRENCY: int = Settings.model_fields["image_work_concurrency"].default
DEFAULT_MAX_COVER_BYTES: int = Settings.model_fields["max_cover_bytes"].default
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
RASTER_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/tiff"})

_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class MediaInfo:
    mime_type: str
    kind: str  # "image" | "audio" | "video" | "document" | "model"
    extension: str


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    size: int
    sha256: str


PNG = MediaInfo("image/png", "image", "png")
JPEG = MediaInfo("image/jpeg", "image", "jpg")
GIF = MediaInfo("image/gif", "image", "gif")
WEBP = MediaInfo("image/webp", "image", "webp")
AVIF = MediaInfo("image/avif", "image", "avif")
TIFF = MediaInfo("image/tiff", "image", "tif")
SVG = MediaInfo("image/svg+xml", "image", "svg")
MP3 = MediaInfo("audio/mpeg", "audio", "mp3")
WAV = MediaInfo("audio/wav", "audio", "wav")
FLAC = MediaInfo("audio/flac", "audio", "flac")
OGG = MediaInfo("audio/ogg", "audio", "ogg")
M4A = MediaInfo("audio/mp4", "audio", "m4a")
MP4 = MediaInfo("video/mp4", "video", "mp4")
MOV = MediaInfo("video/quicktime", "video", "mov")
WEBM = MediaInfo("video/webm", "video", "webm")
PDF = MediaInfo("application/pdf", "document", "pdf")
GLB = MediaInfo("model/gltf-binary", "model", "glb")
GLTF = MediaInfo("model/gltf+json", "model", "gltf")


class ImageTooLarge(UnsupportedMediaType):
    """This image has more pixels than the server decodes (415: the body may be small, the image is the problem)."""

    code = "image_too_large"


class CoverRefused(InvalidInput):
    """The cover image is refused: a 422 at `body.cover`, so a client knows which of the two files to change.
    `reason` lets pages say why in their language: "kind" (this work takes no cover), "type" (not an accepted
    image), "size" (over the cover limit), "pixels" (more pixels than are decoded)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, loc=("body", "cover"))
        self.reason = reason


def _refuse(detected: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"{detected} are not accepted. {ACCEPTED_SUMMARY}")


# --------------------------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------------------------


def sniff_file(path: Path) -> MediaInfo:
    """Return what the file is, judged from its content only; raise UnsupportedMediaType for anything refused."""
    path = Path(path)
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
        if not head:
            raise UnsupportedMediaType("The file is empty.")
        size = path.stat().st_size
        for sniffer in _BINARY_SNIFFERS:
            info = sniffer(head, f, size)
            if info is not None:
                return info
    _refuse_known_binary(head)
    text = _text_start(head)
    if text is not None:
        if text.startswith(b"{"):
            return _sniff_gltf_json(path)
        if text.startswith(b"<"):
            return _sniff_markup(path, text)
    raise _refuse("Files of this type (not recognised from their content)")


def sniff_cover(path: Path) -> MediaInfo:
    """What a cover image is, from its content only; CoverRefused (reason "type") for anything but an accepted
    image (the same images a work may be: SVG with scripts or external references is refused here too)."""
    try:
        info = sniff_file(path)
    except UnsupportedMediaType as exc:
        detail = exc.message.replace(ACCEPTED_SUMMARY, "").strip()
        raise CoverRefused(f"The cover is refused: {detail} {COVER_SUMMARY}", reason="type") from None
    if info.kind != "image":
        raise CoverRefused(f"The cover must be an image; this file is {info.kind} ({info.mime_type}). "
                           f"{COVER_SUMMARY}", reason="type")
    return info


def _sniff_images(head: bytes, f: BinaryIO, size: int) -> MediaInfo | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    return None


def _sniff_riff(head: bytes, f: BinaryIO, size: int) -> MediaInfo | None:
    if head[:4] != b"RIFF" or len(head) < 12:
        return None
    form = head[8:12]
    if form == b"WEBP":
        return WEBP
    if form == b"WAVE":
        return WAV
    if form == b"AVI ":
        raise _refuse("AVI videos (export as MP4 or WebM)")
    raise _refuse(f"RIFF files of type {form.decode('latin-1')!r}")


_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V ",
    b"M4VH", b"M4VP", b"mmp4", b"MSNV", b"NDAS", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"f4v ",
}  # fmt: skip
_M4A_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
_AVIF_BRANDS = {b"avif", b"avis"}
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"mvhd", b"PICT"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def _sniff_iso_bmff(head: bytes, f: BinaryIO, size: int) -> MediaInfo | None:
    if len(head) >= 16 and head[4:8] in (b"moov", b"wide", b"mdat", b"pnot") and head[12:16] in _QT_ATOMS:
        return MOV  # QuickTime files written before the ftyp box existed
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    box_size = struct.unpack(">I", head[:4])[0]
    if box_size < 16:
        return None
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    if major in _AVIF_BRANDS:
        return AVIF
    if major in _M4A_BRANDS:
        return M4A
    if major == b"qt  ":
        return MOV
    if major in _MP4_BRANDS:
        return MP4
    if major in _HEIF_BRANDS:
        if compatible & _AVIF_BRANDS:
            return AVIF
        raise _refuse("HEIC/HEIF images (export as JPEG, PNG, WebP or AVIF)")
    if compatible & _M4A_BRANDS:
        return M4A
    if compatible & _MP4_BRANDS:
        return MP4
    raise _refuse(f"ISO media files with brand {major.decode('latin-1')!r}")


# MPEG audio: bitrates (kbit/s) for Layer III by version, sample rates by version.
_MP3_BITRATES = {
    "1": (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    "2": (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_SAMPLE_RATES = {"1": (44100, 48000, 32000), "2": (22050, 24000, 16000), "2.5": (11025, 12000, 8000)}


def _mp3_frame_length(header: bytes) -> int | None:
    """Length of an MPEG-1/2/2.5 Layer III frame starting with `header`, or None if it is not one."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version_bits = (header[1] >> 3) & 0b11
    layer_bits = (header[1] >> 1) & 0b11
    if version_bits == 0b01 or layer_bits != 0b01:  # reserved version, or not Layer III
        return None
    version = {0b11: "1", 0b10: "2", 0b00: "2.5"}[version_bits]
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0b11
    if bitrate_index in (0, 0xF) or rate_index == 0b11:
        return None
    bitrate = _MP3_BITRATES["1" if version == "1" else "2"][bitrate_index] * 1000
    sample_rate = _MP3_SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    factor = 144 if version == "1" else 72
    return factor * bitrate // sample_rate + padding


def _sniff_audio(head: bytes, f: BinaryIO, size: int) -> MediaInfo | None:
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"OggS") and len(head) >= 28:
        segments = head[26]
        packet = head[27 + segments : 27 + segments + 8]
        if packet.startswith(b"\x01vorbis") or packet.startswith(b"OpusHead") or packet.startswith(b"fLaC"):
            return OGG
        if packet.startswith(b"\x80theora"):
            raise _refuse("Ogg Theora videos (export as MP4 or WebM)")
        raise _refuse("Ogg files with an unknown codec")
    if head.startswith(b"ID3") and len(head) >= 10:
        version, flags = head[3], head[5]
        size_bytes = head[6:10]
        if version in (2, 3, 4) and all(b < 0x80 for b in size_bytes):
            tag_size = 10 + ((size_bytes[0] << 21) | (size_bytes[1] << 14) | (size_bytes[2] << 7) | size_bytes[3])
            if flags & 0x10:  # footer present
                tag_size += 10
            f.seek(tag_size)
            after = f.read(4)
            if after == b"fLaC":
                return FLAC
            # Some encoders pad after the tag; an ID3 tag followed by nothing readable is still treated as MP3
            # only if what follows is an MPEG frame (or the file is just a tag, which some tools produce).
            if not after or _mp3_frame_length(after) is not None or after == b"\x00\x00\x00\x00":
                return MP3
        return None
    frame = _mp3_frame_length(head[:4])
    if frame is not None:
        # A single sync word could be chance: require the next frame to line up when the file is long enough.
        if frame + 4 > len(head) or _mp3_frame_length(head[frame : frame + 4]) is not None:
            return MP3
    if len(head) >= 7 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        raise _refuse("Raw AAC (ADTS) audio files (use M4A, MP3, OGG, FLAC or WAV)")
    return None


def _read_vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """Read an EBML variable-length integer; return (value, new position)."""
    if pos >= len(data):
        return None
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or pos + length > len(data):
        return None
    value = first if keep_marker else first & (0xFF >> length)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    return value, pos + length


def _sniff_ebml(head: bytes, f: BinaryIO, size: int) -> MediaInfo | None:
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    header_size = _read_vint(head, 4, keep_marker=False)
    if header_size is None:
        raise _refuse("Corrupt EBML/Matroska files")
    size_value, pos = header_size
    end = min(len(head), pos + size_value)
    doctype = None
    while pos < end:
        element = _read_vint(head, pos, keep_marker=True)
        if element is None:
            break
        element_id, pos = element
        length = _read_vint(head, pos, keep_marker=False)
        if length is None:
            break
        length_value, pos = length
        if element_id == 0x4282:
            doctype = head[pos : pos + length_value].rstrip(b"\x00")
            break
        pos += length_value
    if doctype == b"webm":
        return WEBM
    if doctype == b"matroska":
        raise _refuse("Matroska (.mkv/.mka) files (export as WebM or MP4)")
    raise _refuse("EBML files that are not WebM")


def _sniff_document(head: bytes, f: BinaryIO, size: int) -> MediaInfo | None:
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def _sniff_glb(head: bytes, f: BinaryIO, size: int) -> MediaInfo | None:
    if not head.startswith(b"glTF"):
        return None
    if len(head) < 20:
        raise UnsupportedMediaType("This binary glTF (.glb) file is truncated.")
    version, length, chunk_length, chunk_type = struct.unpack("<IIII", head[4:20])
    if version != 2:
        raise UnsupportedMediaType(f"Binary glTF version {version} is not accepted; only glTF 2.0 models are.")
    if length != size or chunk_type != 0x4E4F534A or 20 + chunk_length > size:  # "JSON"
        raise UnsupportedMediaType("This binary glTF (.glb) file is truncated or corrupt.")
    f.seek(20)
    try:
        document = _load_json(f.read(chunk_length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise UnsupportedMediaType("This binary glTF (.glb) file has an unreadable JSON chunk.") from None
    _check_gltf_document(document)
    return GLB


_BINARY_SNIFFERS: tuple[Callable[[bytes, BinaryIO, int], MediaInfo | None], ...] = (
    _sniff_images,
    _sniff_riff,
    _sniff_iso_bmff,
    _sniff_ebml,
    _sniff_document,
    _sniff_glb,
    _sniff_audio,
)

_KNOWN_BINARIES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"MZ", "Windows executables"),
    (0, b"\x7fELF", "Executable programs (ELF)"),
    (0, b"\xfe\xed\xfa\xce", "Executable programs (Mach-O)"),
    (0, b"\xfe\xed\xfa\xcf", "Executable programs (Mach-O)"),
    (0, b"\xce\xfa\xed\xfe", "Executable programs (Mach-O)"),
    (0, b"\xcf\xfa\xed\xfe", "Executable programs (Mach-O)"),
    (0, b"\xca\xfe\xba\xbe", "Executable programs (Mach-O universal / Java class)"),
    (0, b"\x00asm", "WebAssembly modules"),
    (0, b"#!", "Scripts"),
    (0, b"PK\x03\x04", "ZIP archives (including Office documents, EPUB and JAR files)"),
    (0, b"PK\x05\x06", "ZIP archives"),
    (0, b"Rar!\x1a\x07", "RAR archives"),
    (0, b"7z\xbc\xaf\x27\x1c", "7-Zip archives"),
    (0, b"\x1f\x8b", "Gzip archives"),
    (0, b"BZh", "Bzip2 archives"),
    (0, b"\xfd7zXZ\x00", "XZ archives"),
    (0, b"\x28\xb5\x2f\xfd", "Zstandard archives"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Legacy Microsoft Office documents"),
    (0, b"{\\rtf", "RTF documents"),
    (0, b"8BPS", "Photoshop (PSD) files (export as PNG or JPEG)"),
    (0, b"SQLite format 3\x00", "SQLite databases"),
    (257, b"ustar", "TAR archives"),
)


def _refuse_known_binary(head: bytes) -> None:
    for offset, magic, name in _KNOWN_BINARIES:
        if head[offset : offset + len(magic)] == magic:
            raise _refuse(name)


def _text_start(head: bytes) -> bytes | None:
    """The head with a UTF-8 BOM and leading whitespace removed, if it looks like UTF-8 text; else None."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # a multi-byte character cut at the end of the head is fine
            return None
    return head.lstrip(b" \t\r\n")


# --- glTF JSON ------------------------------------------------------------------------------------------------


MAX_JSON_DEPTH = 64  # glTF documents nest about 6 deep; user "extras" get room, bombs do not
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = "".join(chr(c) for c in range(128) if chr(c) not in "[]{}")


def _load_json(text: str) -> Any:
    """json.loads, after checking the nesting depth without recursion: the C parser recurses once per level, and
    with the recursion limit some libraries raise (py_ecc sets 100,000) 200,000 nested brackets (400 kB) overflow
    the C stack and kill the process instead of raising RecursionError."""
    skeleton = _JSON_STRING.sub("", text).translate({ord(c): None for c in _NOT_BRACKETS})
    for _ in range(MAX_JSON_DEPTH):
        if not skeleton:
            break
        shorter = skeleton.replace("[]", "").replace("{}", "")  # one level of innermost pairs per pass
        if shorter == skeleton:
            raise ValueError("unbalanced brackets")
        skeleton = shorter
    if skeleton:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    return json.loads(text)


def _sniff_gltf_json(path: Path) -> MediaInfo:
    try:
        with path.open("rb") as f:
            document = _load_json(f.read().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _refuse("Text files that are not valid JSON glTF models") from None
    if not isinstance(document, dict) or not isinstance(document.get("asset"), dict):
        raise _refuse("JSON files other than glTF 2.0 models")
    _check_gltf_document(document)
    return GLTF


def _check_gltf_document(document: Any) -> None:
    asset = document.get("asset") if isinstance(document, dict) else None
    version = asset.get("version") if isinstance(asset, dict) else None
    if not isinstance(version, str) or not re.fullmatch(r"2\.\d+", version):
        raise UnsupportedMediaType(f"glTF version {version!r} is not accepted; only glTF 2.0 models are.")
    for section in ("buffers", "images"):
        items = document.get(section) or []
        if not isinstance(items, list):
            raise UnsupportedMediaType(f"This glTF model has an invalid {section!r} section.")
        for item in items:
            uri = item.get("uri") if isinstance(item, dict) else None
            if uri is not None and not (isinstance(uri, str) and uri.startswith("data:")):
                raise UnsupportedMediaType(
                    "glTF models must be self-contained: external files are not accepted "
                    "(export as a single .glb, or a .gltf with embedded data).",
                )


# --- SVG / markup ---------------------------------------------------------------------------------------------

_HTML_START = re.compile(rb"<(!doctype\s+html|html|head|body|script|iframe|meta|title|div|p|a|style|link)[\s>/]", re.I)
_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_SAFE_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp)[;,]", re.I)
_FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener", "audio", "video"}
_ANIMATION_ELEMENTS = {"set", "animate", "animatetransform", "animatemotion", "animatecolor"}
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.S)
_CSS_URL = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)\s]*))\s*\)", re.I)
_CSS_FORBIDDEN = re.compile(r"@import|image-set\s*\(|\bsrc\s*\(|expression\s*\(|javascript:|behavior\s*:", re.I)

_XHTML_NS = "http://www.w3.org/1999/xhtml"
_SVG_REFUSED = "SVG images containing scripts or external references are not accepted"


class _UnsafeSvg(Exception):
    pass


class _NotSvg(Exception):
    def __init__(self, root: str) -> None:
        self.root = root


def _sniff_markup(path: Path, text: bytes) -> MediaInfo:
    if _HTML_START.match(text) or re.search(rb"<(!doctype\s+html|html[\s>])", text[:4096], re.I):
        raise _refuse("HTML documents")
    if not re.match(rb"<(\?xml|svg[\s>]|!--|!doctype\s+svg)", text, re.I):
        raise _refuse("Text/markup files of this type")
    _check_svg(path)
    return SVG


def _local(name: str) -> str:
    """Local part of an expat namespaced name ('uri local' or 'local')."""
    return name.rsplit(" ", 1)[-1]


def _is_safe_reference(value: str) -> bool:
    value = value.strip()
    return value.startswith("#") or bool(_SAFE_DATA_IMAGE.match(value))


def _check_css(css: str) -> None:
    css = _CSS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), css)
    if _CSS_FORBIDDEN.search(css):
        raise _UnsafeSvg("style sheet imports or script-like CSS")
    for match in _CSS_URL.finditer(css):
        target = next(g for g in match.groups() if g is not None)
        if not _is_safe_reference(target):
            raise _UnsafeSvg(f"external CSS reference {target[:80]!r}")
    if re.search(r"url\s*\(", css, re.I) and len(_CSS_URL.findall(css)) != len(re.findall(r"url\s*\(", css, re.I)):
        raise _UnsafeSvg("an unparseable CSS url()")


def _check_svg(path: Path) -> None:
    """Parse the file as XML; refuse anything that is not an SVG image, or an SVG that could run or load anything."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    state: dict[str, Any] = {"root": None, "depth": 0, "style_depth": None, "style_text": []}

    def doctype(*_: object) -> None:
        raise _UnsafeSvg("a DOCTYPE declaration")

    def entity(*_: object) -> None:
        raise _UnsafeSvg("an ENTITY declaration")

    def processing_instruction(target: str, data: str) -> None:
        raise _UnsafeSvg(f"a processing instruction <?{target}?>")

    def start(name: str, attrs: dict[str, str]) -> None:
        local = _local(name).lower()
        namespace = name.rsplit(" ", 1)[0] if " " in name else ""
        if state["root"] is None:
            state["root"] = name
            if local != "svg" or namespace not in ("", _SVG_NS):
                raise _NotSvg(local)
        state["depth"] += 1
        if local in _FORBIDDEN_ELEMENTS:
            raise _UnsafeSvg(f"a <{_local(name)}> element")
        if namespace == _XHTML_NS:
            raise _UnsafeSvg(f"an embedded HTML <{local}> element")
        for attr_name, value in attrs.items():
            attr_local = _local(attr_name).lower()
            if attr_local.startswith("on"):
                raise _UnsafeSvg(f"an event handler attribute {attr_local!r}")
            if attr_local in ("href", "src"):
                if not _is_safe_reference(value):
                    raise _UnsafeSvg(f"an external reference {value[:80]!r}")
            elif attr_local == "style" or "url" in value.lower() or "\\" in value:
                _check_css(value)
            if local in _ANIMATION_ELEMENTS and attr_local == "attributename":
                target = _local(value.split(":")[-1]).lower()
                if target in ("href", "src") or target.startswith("on"):
                    raise _UnsafeSvg(f"an animation of the {value!r} attribute")
        if local == "style" and state["style_depth"] is None:
            state["style_depth"] = state["depth"]

    def end(name: str) -> None:
        if state["style_depth"] == state["depth"]:
            _check_css("".join(state["style_text"]))
            state["style_text"].clear()
            state["style_depth"] = None
        state["depth"] -= 1

    def characters(data: str) -> None:
        if state["style_depth"] is not None:
            state["style_text"].append(data)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = entity
    parser.ProcessingInstructionHandler = processing_instruction
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 16):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _NotSvg as e:
        raise _refuse("HTML documents" if e.root == "html" else "XML documents other than SVG images") from None
    except _UnsafeSvg as e:
        raise UnsupportedMediaType(f"{_SVG_REFUSED} (found {e}).") from None
    except expat.ExpatError as e:
        reason = f"{expat.ErrorString(e.code)} at line {e.lineno}"
        raise UnsupportedMediaType(f"This SVG/XML file is not well-formed ({reason}).") from None
    if state["root"] is None:
        raise _refuse("XML documents other than SVG images")


# --------------------------------------------------------------------------------------------------------------
# File names
# --------------------------------------------------------------------------------------------------------------

MAX_FILENAME_CHARS = 255
# Bidirectional embeddings, overrides and isolates: "photo\u202egnp.exe" shows as "photoexe.png".
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class InvalidFilename(InvalidInput):
    """The file name must be a plain name."""

    code = "invalid_filename"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, loc=("body", "file"))


def check_filename(name: str) -> str:
    """The name a browser sent for an upload, NFC-normalised, if it is a plain file name; InvalidFilename otherwise.

    Browsers send the base name only, so anything else is refused rather than repaired: folders (`/`, `\\`, `..`),
    control characters (NUL included), text-direction overrides, more than 255 characters. Never used as a path:
    the name is only shown, and offered back as the download name."""
    name = unicodedata.normalize("NFC", name or "")
    problem = None
    if len(name) > MAX_FILENAME_CHARS:
        problem = f"it is longer than {MAX_FILENAME_CHARS} characters"
    elif "/" in name or "\\" in name or name in (".", ".."):
        problem = "it names a folder or a path"
    elif any(unicodedata.category(c) == "Cc" for c in name):
        problem = "it contains control characters"
    elif any(c in _BIDI_CONTROLS for c in name):
        problem = "it contains text-direction override characters"
    if problem:
        raise InvalidFilename(f"The file name is refused: {problem}. Rename the file and upload it again.")
    return name


# --------------------------------------------------------------------------------------------------------------
# Streaming uploads to disk
# --------------------------------------------------------------------------------------------------------------


def format_mb(n_bytes: int) -> str:
    mb = n_bytes / (1024 * 1024)
    return f"{mb:.0f}" if mb == int(mb) else f"{mb:.1f}"


def stream_to_file(source: BinaryIO, dest: Path, *, max_bytes: int, chunk_size: int = 1 << 20) -> StoredUpload:
    """Copy `source` to `dest` chunk by chunk, hashing as it goes; refuse (and delete) files over `max_bytes`."""
    dest = Path(dest)
    digest = hashlib.sha256()
    size = 0
    try:
        with dest.open("wb") as out:
            while chunk := source.read(chunk_size):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"The file is larger than the {format_mb(max_bytes)} MB limit.")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return StoredUpload(path=dest, size=size, sha256=digest.hexdigest())


def stage_file(source: BinaryIO, dest: Path, *, max_bytes: int) -> int:
    """Copy `source` (from its current position) to `dest`, return the size; refuse files over `max_bytes`.

    No hashing here: the caller hashes on the single read that follows (`IpfsClient.add_file(digest=...)`). A source
    backed by a file (an upload Starlette spooled to disk) is measured first and copied by the kernel
    (`copy_file_range`, else `sendfile`: no bytes through Python); anything else goes through `stream_to_file`."""
    try:
        fd = source.fileno()
        start = source.tell()
        size = os.fstat(fd).st_size - start
    except (AttributeError, OSError, io.UnsupportedOperation, ValueError):
        return stream_to_file(source, dest, max_bytes=max_bytes).size
    if size > max_bytes:
        raise PayloadTooLarge(f"The file is larger than the {format_mb(max_bytes)} MB limit.")
    dest = Path(dest)
    try:
        with dest.open("wb") as out:
            copied = 0
            while copied < size:
                try:
                    n = os.copy_file_range(fd, out.fileno(), size - copied, start + copied)
                except OSError:  # older kernels, some file systems
                    n = os.sendfile(out.fileno(), fd, start + copied, size - copied)
                if n == 0:
                    break
                copied += n
    except OSError:
        # whatever failed (a full disk included) fails again the ordinary way, with stream_to_file's handling
        dest.unlink(missing_ok=True)
        source.seek(start)
        return stream_to_file(source, dest, max_bytes=max_bytes).size
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return copied


# --------------------------------------------------------------------------------------------------------------
# Thumbnails
# --------------------------------------------------------------------------------------------------------------

# Decoding is where memory goes (width x height x 4 bytes, and a converted copy): at most `concurrency` images
# are decoded at once in this process, whatever arrives; the others wait their turn (on disk, in the staging folder).
_slots_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


@contextmanager
def image_work(concurrency: int = DEFAULT_IMAGE_WORK_CONCURRENCY) -> Iterator[None]:
    """Hold one of the process's `concurrency` image-decoding slots (blocking: call it off the event loop)."""
    with _slots_lock:
        slot = _slots.setdefault(max(1, concurrency), threading.BoundedSemaphore(max(1, concurrency)))
    with slot:
        yield


def _is_decodable(info: MediaInfo) -> bool:
    if info.mime_type not in RASTER_MIME_TYPES:
        return False
    return info.mime_type != "image/avif" or bool(features.check("avif"))


def _too_large(max_pixels: int, what: str | None = None) -> ImageTooLarge:
    limit = f"the limit is {max_pixels / 1_000_000:g} megapixels, all frames counted"
    if what:
        return ImageTooLarge(f"This image is too large to process: {what}; {limit}.")
    return ImageTooLarge(f"This image is too large to process; {limit}.")


def _text_bomb() -> ImageTooLarge:
    mb = PngImagePlugin.MAX_TEXT_CHUNK / (1024 * 1024)
    return ImageTooLarge(
        f"This image is refused: its text or colour-profile data decompresses to more than {mb:g} MB "
        "(a decompression bomb).",
    )


def _is_text_bomb(error: ValueError) -> bool:
    """Pillow's refusals of PNG text/profile chunks that decompress to more than its limits."""
    message = str(error).lower()
    return "decompressed data too large" in message or "too much memory used in text chunks" in message


def _open_raster(path: Path, info: MediaInfo, max_pixels: int) -> Image.Image | None:
    """Open a raster image lazily (header only) and check its pixel count, all frames counted, before anything is
    decoded; None if Pillow can't decode this type here."""
    if not _is_decodable(info):
        return None
    image = None
    try:
        image = Image.open(path)
        width, height = image.size
        frames = int(getattr(image, "n_frames", 1) or 1)  # reads frame headers only
        image.seek(0)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _close(image)
        raise _too_large(max_pixels) from None
    except ValueError as error:
        _close(image)
        if _is_text_bomb(error):
            raise _text_bomb() from None
        raise _corrupt() from None
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError):
        _close(image)
        raise _corrupt() from None
    if width <= 0 or height <= 0:
        image.close()
        raise _corrupt()
    if width * height * frames > max_pixels:
        image.close()
        megapixels = f"{width * height * frames / 1_000_000:.1f} megapixels"
        if frames > 1:
            raise _too_large(max_pixels, f"{frames} frames of {width}x{height} pixels ({megapixels})")
        raise _too_large(max_pixels, f"{width}x{height} pixels ({megapixels})")
    return image


def _close(image: Image.Image | None) -> None:
    if image is not None:
        image.close()


def _corrupt() -> UnsupportedMediaType:
    return UnsupportedMediaType("This image is corrupt or truncated and cannot be read.")


def image_dimensions(
    path: Path, info: MediaInfo, *, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
) -> tuple[int, int] | None:
    """(width, height) as displayed (EXIF orientation applied) for raster images; None otherwise. Header only."""
    image = _open_raster(Path(path), info, max_pixels)
    if image is None:
        return None
    with image:
        width, height = image.size
        return (height, width) if _orientation(image) in (5, 6, 7, 8) else (width, height)


def make_thumbnail(
    path: Path,
    info: MediaInfo,
    *,
    max_px: int = 640,
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
    concurrency: int = DEFAULT_IMAGE_WORK_CONCURRENCY,
) -> bytes | None:
    """A WebP thumbnail (JPEG if WebP is unavailable), EXIF-rotated, longest side <= max_px; None if not raster.

    Refuses (ImageTooLarge, 413) images over `max_pixels` from their header. Decodes at reduced size where the
    format allows (JPEG draft: 1/2 .. 1/8 scale) and reduces by whole factors before resampling; at most
    `concurrency` images are decoded at once in the process.
    """
    if not _is_decodable(info):
        return None
    with image_work(concurrency):
        return _thumbnail(Path(path), info, max_px=max_px, max_pixels=max_pixels)


# Modes Pillow resizes directly: reduced first, converted to RGB(A) once small.
_RESIZABLE_MODES = frozenset({"RGB", "RGBA", "RGBX", "L", "LA", "CMYK", "YCbCr"})
_ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the rotation
        return 1


def _thumbnail(path: Path, info: MediaInfo, *, max_px: int, max_pixels: int) -> bytes | None:
    image = _open_raster(path, info, max_pixels)
    if image is None:
        return None
    with image:
        try:
            if image.mode in _RESIZABLE_MODES:
                # JPEG: draft() decodes at reduced scale; others: reduce() by a whole factor, then LANCZOS.
                image.thumbnail((max_px, max_px), Image.Resampling.LANCZOS, reducing_gap=2.0)
                image.load()
                frame = _to_display_mode(image)
            else:  # palette, 16-bit, float: converted first (Pillow can't average palette indices)
                image.load()
                frame = _to_display_mode(image)
                frame.thumbnail((max_px, max_px), Image.Resampling.LANCZOS, reducing_gap=2.0)
            transpose = _ORIENTATIONS.get(_orientation(image))
            if transpose is not None:
                frame = frame.transpose(transpose)
            return _encode(frame)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large(max_pixels) from None
        except ValueError as error:
            if _is_text_bomb(error):
                raise _text_bomb() from None
            raise _corrupt() from None
        except (OSError, SyntaxError, EOFError):
            raise _corrupt() from None


def _encode(frame: Image.Image) -> bytes:
    out = io.BytesIO()
    if features.check("webp"):
        frame.save(out, format="WEBP", quality=80, method=4)
    else:
        if frame.mode != "RGB":
            frame = _flatten(frame)
        frame.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def _to_display_mode(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # High bit depth greyscale: scale to 8 bits instead of clipping to white.
        scale = 1 / 256 if mode.startswith("I;16") or mode == "I" else 255
        return image.convert("F" if mode == "F" else "I").point(lambda v: v * scale).convert("L").convert("RGB")
    has_alpha = mode in ("LA", "La", "PA", "RGBa") or (mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def _flatten(image: Image.Image) -> Image.Image:
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A") if "A" in image.getbands() else None)
    return background
