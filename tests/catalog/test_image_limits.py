"""Pixel bombs and bounded image work: refused from the header, decoded small, a few at a time."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest
from PIL import Image, ImageFile

from devtools.procs import pick_free_port
from marketplace.catalog import media
from marketplace.catalog.media import ImageTooLarge, image_dimensions, make_thumbnail, sniff_file
from marketplace.core.config import Settings
from tests.catalog.bombs import gif_animation, png_bomb, png_text_bomb
from tests.conftest import png_bytes

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------------------------
# Refused from the header
# --------------------------------------------------------------------------------------------------------------


def test_the_pixel_limit_is_a_setting_of_40_megapixels_by_default() -> None:
    settings = Settings(_env_file=None)
    assert settings.max_image_pixels == 40_000_000
    assert settings.image_work_concurrency == 2
    assert Settings(_env_file=None, max_image_pixels=1000).max_image_pixels == 1000


def test_an_8900x8900_png_is_refused_naming_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.png", png_bomb())
    assert path.stat().st_size < 400_000  # 79 megapixels in a few hundred kB
    info = sniff_file(path)
    with pytest.raises(ImageTooLarge) as refused:
        make_thumbnail(path, info)
    assert (refused.value.status_code, refused.value.code) == (415, "image_too_large")
    assert refused.value.message == ("This image is too large to process: 8900x8900 pixels (79.2 megapixels); "
                                     "the limit is 40 megapixels, all frames counted.")
    with pytest.raises(ImageTooLarge):
        image_dimensions(path, info)


def test_the_limit_is_checked_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def recording_load(self):
        if self.tile:  # the real decode (later calls only return the loaded pixels)
            decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    path = write(tmp_path, "big.png", png_bytes((3000, 2000)))
    with pytest.raises(ImageTooLarge, match=r"3000x2000 pixels \(6.0 megapixels\); the limit is 5 megapixels"):
        make_thumbnail(path, media.PNG, max_pixels=5_000_000)
    assert decoded == []
    assert make_thumbnail(path, media.PNG, max_pixels=6_000_000) is not None
    assert decoded == [(3000, 2000)]


def test_frames_of_an_animation_count(tmp_path: Path) -> None:
    path = write(tmp_path, "anim.gif", gif_animation((200, 200), frames=30))  # 1.2 megapixels in all
    info = sniff_file(path)
    with pytest.raises(ImageTooLarge, match=r"30 frames of 200x200 pixels \(1.2 megapixels\)"):
        make_thumbnail(path, info, max_pixels=1_000_000)
    with pytest.raises(ImageTooLarge):
        image_dimensions(path, info, max_pixels=1_000_000)
    assert image_dimensions(path, info, max_pixels=1_200_000) == (200, 200)
    assert Image.open(io.BytesIO(make_thumbnail(path, info, max_pixels=1_200_000))).size == (200, 200)


def test_pillows_own_bomb_threshold_is_never_passed(tmp_path: Path) -> None:
    """Between Pillow's warning (89.5 Mpx) and its error (179 Mpx) Pillow would decode with a warning: refused,
    even with the largest limit the settings allow."""
    path = write(tmp_path, "bomb.png", png_bomb(10_000, 9_000))
    top = Settings.model_fields["max_image_pixels"].metadata[-1].le
    with pytest.raises(ImageTooLarge, match="the limit is 89 megapixels"):
        make_thumbnail(path, media.PNG, max_pixels=top)
    with pytest.raises(ValueError):
        Settings(_env_file=None, max_image_pixels=100_000_000)


@pytest.mark.parametrize("after_pixels", [False, True], ids=["text-before-pixels", "text-after-pixels"])
def test_a_png_text_chunk_that_inflates_to_megabytes_is_refused(tmp_path: Path, after_pixels: bool) -> None:
    path = write(tmp_path, "text.png", png_text_bomb(after_pixels=after_pixels))
    assert path.stat().st_size < 200_000
    with pytest.raises(ImageTooLarge, match="decompresses to more than 1 MB") as refused:
        make_thumbnail(path, sniff_file(path))
    assert refused.value.code == "image_too_large"


# --------------------------------------------------------------------------------------------------------------
# Decoded small
# --------------------------------------------------------------------------------------------------------------


def test_a_big_jpeg_is_decoded_at_reduced_scale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def recording_load(self):
        if self.tile:  # the real decode (later calls only return the loaded pixels)
            decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    buf = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 120, 200)).save(buf, "JPEG", quality=80)
    path = write(tmp_path, "photo.jpg", buf.getvalue())
    thumb = Image.open(io.BytesIO(make_thumbnail(path, media.JPEG, max_px=640)))
    assert thumb.size == (640, 480)
    assert decoded == [(2000, 1500)]  # JPEG draft at 1/2 scale: never 12 megapixels in memory


def test_rotation_and_colour_conversion_happen_on_the_small_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A big greyscale PNG with an EXIF rotation: reduced first, then converted and rotated (no full-size copies)."""
    sizes: list[tuple[str, tuple[int, int]]] = []
    real_transpose, real_convert = Image.Image.transpose, Image.Image.convert

    def transpose(self, method):
        sizes.append(("transpose", self.size))
        return real_transpose(self, method)

    def convert(self, *args, **kwargs):
        sizes.append(("convert", self.size))
        return real_convert(self, *args, **kwargs)

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees
    buf = io.BytesIO()
    Image.new("L", (3000, 1500), 128).save(buf, "PNG", exif=exif.tobytes())
    path = write(tmp_path, "grey.png", buf.getvalue())
    monkeypatch.setattr(Image.Image, "transpose", transpose)
    monkeypatch.setattr(Image.Image, "convert", convert)
    thumb = Image.open(io.BytesIO(make_thumbnail(path, media.PNG, max_px=640)))
    assert thumb.size == (320, 640)
    assert sizes and all(max(size) <= 640 for _, size in sizes), sizes


# --------------------------------------------------------------------------------------------------------------
# A few at a time
# --------------------------------------------------------------------------------------------------------------


class ConcurrencyProbe:
    """Wraps the decoding step: counts how many run at once (each holds its slot a moment, so they overlap)."""

    def __init__(self, real, hold_s: float = 0.3) -> None:
        self.real, self.hold_s = real, hold_s
        self.lock = threading.Lock()
        self.now = self.peak = self.calls = 0

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.now += 1
            self.calls += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(self.hold_s)
            return self.real(*args, **kwargs)
        finally:
            with self.lock:
                self.now -= 1


def test_image_work_runs_at_most_concurrency_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = ConcurrencyProbe(media._thumbnail)
    monkeypatch.setattr(media, "_thumbnail", probe)
    path = write(tmp_path, "a.png", png_bytes((800, 600)))
    with ThreadPoolExecutor(8) as pool:
        thumbs = list(pool.map(lambda _: make_thumbnail(path, media.PNG, concurrency=3), range(9)))
    assert all(thumbs)
    assert (probe.calls, probe.peak) == (9, 3)


@pytest.mark.ipfs
@pytest.mark.chain
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_concurrent_uploads_decode_at_most_image_work_concurrency_images(make_client, monkeypatch) -> None:
    from tests.conftest import Api

    probe = ConcurrencyProbe(media._thumbnail)
    monkeypatch.setattr(media, "_thumbnail", probe)
    api = Api(make_client(image_work_concurrency=2))
    creator = api.register(role="creator")
    uploads = [png_bytes((700, 500), color=(i * 20, 100, 50)) for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda content: api.upload(creator, content=content), uploads))
    assert [r.status_code for r in answers] == [201] * 6
    assert (probe.calls, probe.peak) == (6, 2)


# --------------------------------------------------------------------------------------------------------------
# Memory, measured on a real server process
# --------------------------------------------------------------------------------------------------------------

_SERVE = """
import sys, uvicorn
from marketplace.core.config import Settings
from marketplace.main import create_app
uvicorn.run(create_app(Settings(_env_file=None)), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


@pytest.mark.slow
@pytest.mark.ipfs
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_four_pixel_bombs_at_once_leave_the_servers_memory_bounded(tmp_path: Path, db_url: str, ipfs_node) -> None:
    port = pick_free_port()
    env = {**os.environ, "ENV": "test", "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": db_url,
           "IPFS_API_URL": ipfs_node.api_addr, "CONTRACT_ADDRESS": "", "RUN_MINT_WORKER": "false",
           "RUN_DELIVERY_WORKER": "false", "PYTHONPATH": str(REPO)}
    server = subprocess.Popen([sys.executable, "-c", _SERVE, str(port)], env=env, cwd=tmp_path)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the app did not start"
            time.sleep(0.1)
        email = f"bomber-{time.monotonic_ns()}@example.lu"
        assert client.post("/api/auth/register", json={"email": email, "password": "correct horse 1",
                                                       "display_name": "Bomber", "role": "creator"}).status_code == 201
        token = client.post("/api/auth/token", data={"username": email, "password": "correct horse 1"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        bomb = png_bomb()
        process = psutil.Process(server.pid)
        idle = process.memory_info().rss
        peak = idle
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, process.memory_info().rss)
                time.sleep(0.005)

        def upload(i: int) -> httpx.Response:
            return client.post("/api/works", headers=headers, data={
                "title": f"Bomb {i}", "discipline": "photography", "price_cents": "100", "license": "CC0-1.0"},
                files={"file": (f"bomb{i}.png", bomb, "image/png")})

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(upload, range(4)))
        finally:
            done.set()
            sampler.join()
        assert (peak - idle) < 300 * 1024 * 1024, f"memory grew by {(peak - idle) >> 20} MB"
        for r in answers:
            assert r.status_code == 415, r.text
            assert r.json()["code"] == "image_too_large"
            assert "40 megapixels" in r.json()["detail"]
        assert client.get("/api/works", headers=headers).json()["count"] == 0
        assert client.get("/api/health").status_code == 200
    finally:
        server.terminate()
        server.wait(15)
