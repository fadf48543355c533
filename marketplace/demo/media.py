"""The demo's media, made here from a seed (Pillow, wave, struct, fpdf): nothing is downloaded, and the same seed
gives the same bytes. Small on purpose (a few kB each): the seed adds some hundred files to IPFS."""

from __future__ import annotations

import base64
import io
import json
import math
import random
import struct
import sys
import wave
from array import array

from PIL import Image, ImageDraw, ImageFilter

# Luxembourg's flag, the Moselle's greens, slate and sandstone: the palettes the pictures draw from
PALETTES = (
    ((237, 41, 57), (255, 255, 255), (0, 163, 224), (27, 31, 36)),
    ((46, 94, 78), (148, 190, 124), (239, 231, 200), (30, 42, 38)),
    ((66, 72, 84), (176, 160, 140), (222, 200, 160), (240, 236, 228)),
    ((255, 196, 0), (230, 110, 40), (120, 40, 90), (20, 20, 40)),
    ((20, 60, 120), (90, 150, 210), (230, 240, 250), (250, 120, 90)),
)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def poster(seed: int, size: int = 480) -> bytes:
    """Circles, bars and a grid, in one of the palettes: a design poster (PNG)."""
    rng = random.Random(seed)
    palette = PALETTES[seed % len(PALETTES)]
    img = Image.new("RGB", (size, size), palette[2])
    draw = ImageDraw.Draw(img)
    style = seed % 3
    for i in range(10 + rng.randrange(8)):
        c = palette[rng.randrange(len(palette))]
        x, y, r = rng.randrange(size), rng.randrange(size), rng.randrange(size // 12, size // 3)
        if style == 0:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=c)
        elif style == 1:
            draw.rectangle((x, 0, x + r // 3, size), fill=c) if i % 2 else draw.rectangle((0, y, size, y + r // 4), fill=c)
        else:
            draw.polygon([(x, y), (x + r, y + r // 2), (x - r // 2, y + r)], fill=c)
    draw.rectangle((size // 12, size - size // 6, size - size // 12, size - size // 8), fill=palette[3])
    return _png(img)


def photo(seed: int, width: int = 560, height: int = 380) -> bytes:
    """A photograph-like landscape (JPEG): a sky's gradient, layered hills, a sun, blurred a little."""
    rng = random.Random(seed)
    top, bottom = PALETTES[seed % len(PALETTES)][2], PALETTES[(seed + 1) % len(PALETTES)][0]
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / height
        draw.line((0, y, width, y), fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    sx, sy = rng.randrange(width), rng.randrange(height // 3)
    draw.ellipse((sx - 30, sy - 30, sx + 30, sy + 30), fill=(255, 236, 190))
    for layer in range(4):
        base = height * (0.45 + 0.13 * layer)
        shade = 30 + layer * 25
        points = [(0, height)]
        phase, amp = rng.random() * 6.28, 20 + rng.randrange(40)
        for x in range(0, width + 20, 20):
            points.append((x, base + amp * math.sin(x / (60 + 30 * layer) + phase)))
        points.append((width, height))
        draw.polygon(points, fill=(shade, shade + 20 + layer * 10, shade + 10))
    return _jpeg(img.filter(ImageFilter.GaussianBlur(1.2)))


def cover(seed: int, title: str, size: int = 360) -> bytes:
    """A cover for an audio or film work: a gradient, rings and a band for the title (PNG)."""
    palette = PALETTES[seed % len(PALETTES)]
    img = Image.new("RGB", (size, size), palette[3])
    draw = ImageDraw.Draw(img)
    for i in range(12, 0, -1):
        r = i * size // 26
        draw.ellipse((size // 2 - r, size // 2 - r, size // 2 + r, size // 2 + r),
                     outline=palette[i % 3], width=4)
    draw.rectangle((0, size - 56, size, size - 20), fill=palette[1])
    draw.text((16, size - 48), title[:36], fill=palette[3])
    return _png(img)


def tune(seed: int, seconds: float = 1.5, rate: int = 16000) -> bytes:
    """A short melody (mono 16-bit WAV) on a pentatonic scale, with a soft attack and decay per note."""
    rng = random.Random(seed)
    scale = [261.63, 293.66, 329.63, 392.0, 440.0, 523.25, 587.33]
    notes = [rng.choice(scale) for _ in range(6)]
    per_note = int(seconds * rate / len(notes))
    samples = array("h")
    sin, tau = math.sin, 2 * math.pi
    for f in notes:
        step = tau * f / rate
        samples.extend(int(9000 * min(1.0, n / 400) * (1 - n / per_note) * (0.6 * sin(step * n) + 0.25 * sin(2 * step * n)))
                       for n in range(per_note))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    frames = samples.tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def document(seed: int, title: str, author: str, paragraphs: list[str]) -> bytes:
    """A one-page PDF: a title, its author, a few paragraphs, a coloured band (fpdf's core font, latin-1)."""
    from fpdf import FPDF

    def latin(text: str) -> str:
        return text.encode("latin-1", "replace").decode("latin-1")

    pdf = FPDF(format=(148, 210))  # A5, in mm
    pdf.set_title(latin(title))
    pdf.set_author(latin(author))
    pdf.set_creation_date(__import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").timezone.utc))
    pdf.add_page()
    r, g, b = PALETTES[seed % len(PALETTES)][0]
    pdf.set_fill_color(r, g, b)
    pdf.rect(0, 0, 148, 18, style="F")
    pdf.set_font("Helvetica", "B", 16)
    pdf.ln(14)
    pdf.multi_cell(0, 8, latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "I", 10)
    pdf.cell(0, 6, latin(author), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 5, latin(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())


def model(seed: int, name: str) -> bytes:
    """A small glTF 2.0 model (.gltf JSON, its buffer embedded as base64): a box of the seed's proportions with a
    coloured material: a building block, a pavilion, a game piece."""
    rng = random.Random(seed)
    sx, sy, sz = (0.5 + rng.random() for _ in range(3))
    corners = [(x * sx, y * sy, z * sz) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]
    faces = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
             (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]
    positions = b"".join(struct.pack("<3f", *c) for c in corners)
    indices = b"".join(struct.pack("<3H", *f) for f in faces)
    blob = positions + indices
    colour = [c / 255 for c in PALETTES[seed % len(PALETTES)][0]] + [1.0]
    document = {
        "asset": {"version": "2.0", "generator": "marketplace demo"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "name": name}],
        "meshes": [{"name": name, "primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": colour, "metallicFactor": 0.1,
                                                "roughnessFactor": 0.8}}],
        "buffers": [{"byteLength": len(blob),
                     "uri": "data:application/octet-stream;base64," + base64.b64encode(blob).decode()}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(positions), "target": 34962},
                        {"buffer": 0, "byteOffset": len(positions), "byteLength": len(indices), "target": 34963}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 8, "type": "VEC3",
                       "min": [-sx, -sy, -sz], "max": [sx, sy, sz]},
                      {"bufferView": 1, "componentType": 5123, "count": len(faces) * 3, "type": "SCALAR"}],
    }
    return json.dumps(document, separators=(",", ":")).encode()
