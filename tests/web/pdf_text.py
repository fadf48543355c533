"""The text of the PDFs web/pdf.py writes (fpdf2, embedded TrueType fonts): a small reader for tests, no PDF
library needed. Each font's ToUnicode map turns the two-byte glyph codes of the page's `Tj` strings back into
characters; one line per `Tj` (or justified `TJ`)."""

from __future__ import annotations

import re
import zlib

_OBJ = re.compile(rb"(\d+) 0 obj\n(.*?)endobj", re.DOTALL)
_STREAM = re.compile(rb"<<(.*?)>>\nstream\n(.*?)\nendstream", re.DOTALL)
_LITERAL = re.compile(rb"\(((?:\\.|[^\\)])*)\)", re.DOTALL)
_TEXT_OP = re.compile(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj|\[((?:\((?:\\.|[^\\)])*\)|[^\]])*)\] TJ", re.DOTALL)


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (dictionary text, stream decoded or None)."""
    found = {}
    for number, body in _OBJ.findall(pdf):
        stream = _STREAM.search(body)
        if stream is None:
            found[int(number)] = (body, None)
            continue
        head, data = stream.groups()
        if b"/FlateDecode" in head:
            data = zlib.decompress(data)
        found[int(number)] = (head, data)
    return found


def _cmap(data: bytes) -> dict[int, str]:
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.DOTALL):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.DOTALL):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int.from_bytes(bytes.fromhex(dst.decode()), "big")
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def _literal(raw: bytes) -> bytes:
    """A PDF literal string's bytes, its escapes undone."""
    out, i = bytearray(), 0
    escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):  # backslash
            nxt = raw[i + 1]
            if nxt in escapes:
                out += escapes[nxt]
                i += 2
            elif 0x30 <= nxt <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4]).group()
                out.append(int(digits, 8) & 0xFF)
                i += 1 + len(digits)
            else:
                out.append(nxt)
                i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def pdf_lines(pdf: bytes) -> list[str]:
    """Every text run of every page, in order."""
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    objects = _objects(pdf)
    fonts: dict[bytes, dict[int, str]] = {}
    for head, _ in objects.values():
        for name, number in re.findall(rb"/(F\d+) (\d+) 0 R", head):
            font_head = objects[int(number)][0]
            to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", font_head)
            if to_unicode:
                fonts[name] = _cmap(objects[int(to_unicode.group(1))][1] or b"")
    lines: list[str] = []
    for head, data in objects.values():
        if data is None or b"/Length" not in head or not (b"Tj" in data or b"TJ" in data):
            continue
        font: dict[int, str] = {}
        for token in _TEXT_OP.finditer(data):
            if token.group(1):
                font = fonts.get(token.group(1), {})
                continue
            # a string (Tj), or a justified line's strings between its spacing numbers (TJ)
            pieces = [token.group(2)] if token.group(2) is not None else _LITERAL.findall(token.group(3))
            raw = b"".join(_literal(piece) for piece in pieces)
            codes = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw) - 1, 2)]
            lines.append("".join(font.get(code, "\ufffd") for code in codes))
    return lines


def pdf_text(pdf: bytes) -> str:
    """All the text, runs joined by newlines (a long value wrapped over lines is split there)."""
    return "\n".join(pdf_lines(pdf))
