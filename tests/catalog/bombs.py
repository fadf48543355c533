"""Hostile images built byte by byte: small files that decode to huge ones."""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache

from PIL import Image, ImageDraw


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _ihdr(width: int, height: int) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))  # 8-bit RGB


@lru_cache(maxsize=4)
def png_bomb(width: int = 8900, height: int = 8900) -> bytes:
    """A complete, valid RGB PNG of black pixels: 8900x8900 is 79 megapixels (237 MB decoded) in ~230 kB.
    Compressed one row at a time, so building it takes no memory."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)  # filter byte + pixels
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    idat = b"".join(parts)
    return b"\x89PNG\r\n\x1a\n" + _ihdr(width, height) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def png_text_bomb(*, after_pixels: bool = False, megabytes: int = 64) -> bytes:
    """A 16x16 PNG with a zTXt chunk that inflates to `megabytes` MB of zeros (before or after the pixels)."""
    image = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(image, "PNG")
    png = image.getvalue()
    ztxt = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"\x00" * (megabytes << 20), 9))
    marker = png.index(b"IEND") - 4 if after_pixels else png.index(b"IDAT") - 4
    return png[:marker] + ztxt + png[marker:]


def gif_animation(size: tuple[int, int], frames: int) -> bytes:
    images = []
    for i in range(frames):  # each frame differs (Pillow merges identical ones)
        frame = Image.new("RGB", size, (250, 250, 250))
        ImageDraw.Draw(frame).rectangle((0, 0, i % size[0], size[1] // 2), fill=(200, 30, 30))
        images.append(frame)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=40, loop=0)
    return out.getvalue()
