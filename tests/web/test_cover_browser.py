"""A creator previews audio and video before uploading, gives the audio a cover, and sees that cover on the work
page, in the gallery and on the certificate (Chromium). The drop zone has one picker, usable from the keyboard.

Screenshots: test-artifacts/screenshots/cover-*.png.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image, ImageDraw

from devtools.seed import _tune
from tests.web.conftest import PHONE
from tests.web.test_browser import drop_file, fill_work, sign_up
from tests.web.test_media_browser import RECORD, with_duration

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

# what the page can interact with inside an element, and whether each is visible
INTERACTIVE = """(selector) => [...document.querySelectorAll(`${selector} :is(input, label, button, a, select)`)]
    .filter((el) => el.type !== "hidden" && el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
    .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""))"""

MEDIA_READY = """(selector) => new Promise((resolve) => {
    const el = document.querySelector(selector);
    const done = () => resolve({ ready: el.readyState, duration: el.duration, width: el.videoWidth || 0 });
    if (el.readyState >= 1) done(); else el.addEventListener("loadedmetadata", done, { once: true });
})"""

IMAGE_LOADED = """(selector) => new Promise((resolve) => {
    const img = document.querySelector(selector);
    const done = () => resolve(img.naturalWidth);
    if (img.complete && img.naturalWidth) done(); else img.addEventListener("load", done, { once: true });
})"""


def album_cover(size: int = 1200) -> bytes:
    """A square album cover: concentric rings in the Luxembourg colours."""
    img = Image.new("RGB", (size, size), (27, 31, 36))
    draw = ImageDraw.Draw(img)
    for i, colour in enumerate(((237, 41, 57), (255, 255, 255), (0, 163, 224)) * 3):
        r = size // 2 - i * size // 20
        draw.ellipse((size // 2 - r, size // 2 - r, size // 2 + r, size // 2 + r), fill=colour)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_a_creator_previews_audio_and_video_gives_a_cover_and_sees_it_everywhere(make_live, browsing):
    live = make_live()
    base = live.url
    creator = browsing.person()
    sign_up(creator, base, role="creator", name="Luc Weber", email="luc@example.lu")
    assert creator.url == f"{base}/studio"

    # --- one picker in the drop zone, and the cover picker only once audio or video is chosen
    assert creator.evaluate(INTERACTIVE, "#dropzone") == ["input#file"]
    assert creator.get_by_label("Media file").count() == 1
    assert not creator.locator("#cover-field").is_visible()
    browsing.shot(creator, "cover-01-studio-one-picker")

    # --- the keyboard reaches the picker and opens it (Space), as for any button
    # sequential focus starts at the form's heading (a click inside <main> would focus main itself, and Tab then
    # starts from the page's first link: the studio's "Edit my profile")
    creator.evaluate("h => { h.tabIndex = -1; h.focus(); }", creator.locator("#upload-heading").element_handle())
    creator.keyboard.press("Tab")
    assert creator.evaluate("document.activeElement.id") == "file"
    with creator.expect_file_chooser() as chooser:
        creator.keyboard.press("Space")
    chooser.value.set_files(files=[{"name": "poster.png", "mimeType": "image/png", "buffer": album_cover(400)}])
    assert creator.evaluate(IMAGE_LOADED, "#preview img.preview-media") == 400
    assert not creator.locator("#cover-field").is_visible()  # an image is its own cover

    # --- a video dropped on the zone: previewed, playable here, and the cover picker appears
    video, _ = with_duration(base64.b64decode(creator.evaluate(RECORD, 1)))
    creator.evaluate("document.querySelector('body > canvas').remove()")  # where RECORD drew the video
    drop_file(creator, video, "tram.webm", "video/webm")
    meta = creator.evaluate(MEDIA_READY, "#preview video.preview-media")
    assert meta["ready"] >= 1 and meta["width"] == 320 and 0.5 < meta["duration"] < 1.5, meta
    assert creator.locator("#cover-field").is_visible()
    browsing.shot(creator, "cover-02-video-preview")

    # --- the audio it is about: dropped, previewed (it plays here: its duration is read), a cover chosen
    tune = _tune(seconds=3)
    drop_file(creator, tune, "schueberfouer-theme.wav", "audio/wav")
    meta = creator.evaluate(MEDIA_READY, "#preview audio.preview-media")
    assert meta["ready"] >= 1 and abs(meta["duration"] - 3) < 0.05, meta
    assert "schueberfouer-theme.wav" in creator.locator("#preview").inner_text()
    creator.get_by_label("Cover image (optional)").set_input_files(
        files=[{"name": "cover.png", "mimeType": "image/png", "buffer": album_cover()}])
    assert creator.evaluate(IMAGE_LOADED, "#cover-preview img.preview-media") == 1200
    # choosing an image instead empties the cover (it would be refused); back to the audio, the cover is chosen again
    creator.set_input_files("#file", files=[{"name": "p.png", "mimeType": "image/png", "buffer": album_cover(300)}])
    assert not creator.locator("#cover-field").is_visible()
    assert creator.evaluate("document.getElementById('cover').files.length") == 0
    drop_file(creator, tune, "schueberfouer-theme.wav", "audio/wav")
    assert creator.locator("#cover-field").is_visible() and creator.locator("#cover-preview").is_hidden()
    creator.get_by_label("Cover image (optional)").set_input_files(
        files=[{"name": "cover.png", "mimeType": "image/png", "buffer": album_cover()}])
    creator.locator("#cover-preview img.preview-media").wait_for()
    fill_work(creator, title="Schueberfouer Theme", description="A short theme for the fair.", discipline="music",
              license_="CC-BY-SA-4.0", price="9", royalty="5")
    browsing.shot(creator, "cover-03-audio-preview-and-cover")

    with creator.expect_navigation(url=re.compile(r"/studio\?uploaded=\d+"), timeout=60_000):
        creator.get_by_role("button", name="Upload").click()
    work_id = re.search(r"uploaded=(\d+)", creator.url).group(1)
    row = creator.locator(f"#work-{work_id}")
    assert creator.evaluate(IMAGE_LOADED, f"#work-{work_id} .thumb img") == 640  # the cover's thumbnail

    # --- the work page: the cover above the player
    creator.goto(f"{base}/works/{work_id}")
    cover = creator.locator(".work-media img.cover")
    assert cover.get_attribute("alt") == "Cover of Schueberfouer Theme, by Luc Weber"
    assert creator.evaluate(IMAGE_LOADED, ".work-media img.cover") == 1200
    assert creator.locator(".work-media audio[controls]").count() == 1
    browsing.shot(creator, "cover-04-work-page-draft")

    # --- minted: the gallery card and the certificate show it to anyone
    creator.goto(f"{base}/studio")
    row.get_by_role("button", name="Mint").click()
    row.locator(".token-id").wait_for(timeout=30_000)
    work = live.client.get(f"/api/works/{work_id}").json()
    visitor = browsing.person()
    visitor.goto(f"{base}/")
    card = visitor.locator("#results .card", has_text="Schueberfouer Theme")
    assert card.locator("img").get_attribute("src") == f"/ipfs/{work['thumbnail_cid']}"
    assert visitor.evaluate(IMAGE_LOADED, "#results .card img") == 640
    browsing.shot(visitor, "cover-05-gallery")
    visitor.goto(f"{base}/tokens/{work['token_id_hex']}")
    assert visitor.evaluate(IMAGE_LOADED, ".cert-thumb img") == 640
    assert visitor.locator("#cert-cover-cid a.long-full").get_attribute("href") == f"/ipfs/{work['cover_cid']}"
    browsing.shot(visitor, "cover-06-certificate")
    metadata = visitor.request.get(f"{base}/ipfs/{work['metadata_cid']}").json()
    assert metadata["image"] == f"ipfs://{work['cover_cid']}"
    visitor.goto(f"{base}/works/{work_id}")
    assert visitor.evaluate(IMAGE_LOADED, ".work-media img.cover") == 1200
    browsing.shot(visitor, "cover-07-work-page")

    # --- the form at a phone's width: one picker, nothing wider than the screen
    phone = browsing.browser.new_context(viewport=PHONE, storage_state=creator.context.storage_state())
    browsing.contexts.append(phone)
    page = phone.new_page()
    page.on("console", browsing._console)
    page.goto(f"{base}/studio")
    drop_file(page, tune, "theme.wav", "audio/wav")
    page.locator("#preview audio.preview-media").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    browsing.shot(page, "cover-08-phone-studio", full_page=False)
