"""A visitor seeks in a video on a work's page (Chromium): the browser asks /ipfs for byte ranges (206) and plays
from where it was sent.

The video is recorded by Chromium itself (a canvas, captureStream and MediaRecorder: VP8 in WebM), so the test
needs nothing installed beyond the browser. MediaRecorder writes no duration, so one is added to the file's Info.
"""

from __future__ import annotations

import base64
import struct

import pytest

from tests.payments.conftest import Shop

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

RECORD = """async (seconds) => {
    const canvas = document.createElement("canvas");
    canvas.width = 320;
    canvas.height = 240;
    document.body.appendChild(canvas);
    const ctx = canvas.getContext("2d");
    const recorder = new MediaRecorder(canvas.captureStream(25),
                                       { mimeType: "video/webm;codecs=vp8", videoBitsPerSecond: 1500000 });
    const chunks = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const started = performance.now();
    const draw = () => {  // a colour and the elapsed tenths of a second: each moment of the video looks different
        const tenths = Math.floor((performance.now() - started) / 100);
        ctx.fillStyle = `hsl(${(tenths * 9) % 360}, 70%, 40%)`;
        ctx.fillRect(0, 0, 320, 240);
        ctx.fillStyle = "#fff";
        ctx.font = "bold 80px sans-serif";
        ctx.fillText((tenths / 10).toFixed(1), 40, 150);
    };
    draw();
    const timer = setInterval(draw, 40);
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    recorder.start(250);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    recorder.stop();
    await stopped;
    clearInterval(timer);
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
}"""

SEEK = """async (target) => {
    const video = document.querySelector("video");
    video.muted = true;
    const seeked = new Promise((resolve) => video.addEventListener("seeked", resolve, { once: true }));
    video.currentTime = target;
    await seeked;
    return video.currentTime;
}"""

PLAY_A_LITTLE = """async (until) => {
    const video = document.querySelector("video");
    await video.play();
    await new Promise((resolve) => {
        const check = () => (video.currentTime >= until ? resolve() : requestAnimationFrame(check));
        check();
    });
    video.pause();
    const played = [];
    for (let i = 0; i < video.played.length; i++) played.push([video.played.start(i), video.played.end(i)]);
    return played;
}"""


def _vint(data: bytes, pos: int, *, marker: bool) -> tuple[int, int]:
    first = data[pos]
    length = 1
    while not first & (0x80 >> (length - 1)):
        length += 1
    value = first if marker else first & (0xFF >> length)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    return value, pos + length


def _size_vint(value: int) -> bytes:
    return bytes([0x80 | value]) if value < 0x7F else (0x4000 | value).to_bytes(2, "big")


def with_duration(webm: bytes) -> tuple[bytes, float]:
    """The WebM with a Duration in its Segment Info, from its last frame's time (MediaRecorder writes none)."""
    segment = webm.index(b"\x18\x53\x80\x67")
    _, pos = _vint(webm, segment + 4, marker=False)  # the segment's size: "unknown" while recording
    info_start = webm.index(b"\x15\x49\xa9\x66", pos)
    info_size, info_body = _vint(webm, info_start + 4, marker=False)
    # the last block's time: cluster Timecode (E7) + (Simple)Block relative time; clusters of unknown size
    last_ms, cluster_ms, pos = 0, 0, info_body + info_size
    while pos < len(webm):
        element, pos = _vint(webm, pos, marker=True)
        size, pos = _vint(webm, pos, marker=False)
        if element in (0x1F43B675, 0xA0):  # Cluster, BlockGroup: step into them
            continue
        if element == 0xE7:
            cluster_ms = int.from_bytes(webm[pos : pos + size], "big")
        elif element in (0xA3, 0xA1):  # SimpleBlock, Block
            _, after_track = _vint(webm, pos, marker=False)
            relative = struct.unpack(">h", webm[after_track : after_track + 2])[0]
            last_ms = max(last_ms, cluster_ms + relative)
        pos += size
    duration_ms = float(last_ms + 40)  # one frame at 25 fps
    duration = b"\x44\x89\x88" + struct.pack(">d", duration_ms)  # TimecodeScale is 1 ms in MediaRecorder files
    body = webm[info_body : info_body + info_size] + duration
    fixed = webm[:info_start] + b"\x15\x49\xa9\x66" + _size_vint(len(body)) + body + webm[info_body + info_size :]
    return fixed, duration_ms / 1000


def test_a_visitor_seeks_past_the_middle_of_a_video(make_live, browsing):
    live = make_live()
    base = live.url
    shop = Shop(live)

    studio = browsing.person()
    recorded = base64.b64decode(studio.evaluate(RECORD, 4))
    assert recorded.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in recorded[:64]
    video_bytes, duration = with_duration(recorded)
    assert 3.5 < duration < 4.5
    creator = shop.register(role="creator", name="Tram Films")
    work = shop.minted_work(creator, content=video_bytes, filename="tram-to-kirchberg.webm", discipline="film",
                            title="Tram to Kirchberg",
                            description="From the Gare to the Kirchberg plateau, seen from the front.")
    assert (work["media_mime"], work["media_size"]) == ("video/webm", len(video_bytes))

    visitor = browsing.person()
    media_answers: list[tuple[int, str | None, str | None]] = []
    visitor.on("response", lambda r: media_answers.append((r.status, r.request.headers.get("range"),
                                                           r.headers.get("content-range")))
               if f"/ipfs/{work['media_cid']}" in r.url else None)
    visitor.goto(f"{base}/works/{work['id']}")
    visitor.wait_for_function("() => { const v = document.querySelector('video');"
                              " return v && v.readyState >= 1 && Number.isFinite(v.duration); }")
    assert abs(visitor.evaluate("document.querySelector('video').duration") - duration) < 0.1
    seekable = visitor.evaluate("(() => { const s = document.querySelector('video').seekable;"
                                " return s.length ? [s.start(0), s.end(0)] : []; })()")
    assert seekable and seekable[0] == 0 and abs(seekable[1] - duration) < 0.1, seekable

    target = round(duration * 0.6, 2)
    landed = visitor.evaluate(SEEK, target)
    assert abs(landed - target) < 0.05
    played = visitor.evaluate(PLAY_A_LITTLE, target + 0.5)
    assert len(played) == 1 and played[0][0] >= target - 0.05 and played[0][1] >= target + 0.5, played
    browsing.shot(visitor, "media-01-video-seeked", full_page=False)

    ranged = [a for a in media_answers if a[0] == 206]
    assert ranged, media_answers
    assert all(a[1] and a[1].startswith("bytes=") and a[2] and a[2].endswith(f"/{len(video_bytes)}")
               for a in ranged), ranged
    assert not [a for a in media_answers if a[0] >= 400], media_answers
