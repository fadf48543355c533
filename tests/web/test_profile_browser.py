"""A profile in a real browser (Chromium): a creator edits it in the studio's Profile page (a bad link refused by
the field, then saved), uploads an avatar, and another person finds them by skill on Find creators and sees it on
the creator page. Then the account page: the delete step refuses without the tick. Screenshots on desktop and on
a phone."""

from __future__ import annotations

import pytest

from tests.conftest import png_bytes
from tests.payments.conftest import Shop
from tests.web.conftest import PHONE
from tests.web.market import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_a_creator_edits_the_profile_and_it_shows_on_the_creator_page(make_live, browsing, tmp_path):
    live = make_live()
    shop = Shop(live)
    lena_user = shop.register(name="Lena")
    lena = signed_in(browsing, lena_user, live.url)

    lena.goto(f"{live.url}/studio")
    lena.get_by_role("link", name="Profile").click()
    lena.wait_for_url(f"{live.url}/studio/profile")
    lena.get_by_label("Display name").fill("Lena Weber")
    lena.get_by_label("About me").fill("Sound designer from Esch.\nFoley, mixing and music for film and games.")
    lena.get_by_label("Location").fill("Esch-sur-Alzette")
    lena.get_by_label("Music").check()
    lena.get_by_label("Games").check()
    lena.get_by_label("Skills").fill("Sound design, foley, mixing")
    lena.get_by_label("Links").fill("https://lena.example.lu\njavascript:alert(1)")
    lena.get_by_role("button", name="Save the profile").click()
    assert "http:// or https://" in lena.locator("#links-error").inner_text()
    browsing.shot(lena, "90-profile-link-refused")
    lena.get_by_label("Links").fill("https://lena.example.lu")
    lena.get_by_role("button", name="Save the profile").click()
    lena.wait_for_url(f"{live.url}/studio/profile?m=saved")
    assert "Your profile is saved." in lena.locator(".notice").inner_text()

    avatar = tmp_path / "lena.png"
    avatar.write_bytes(png_bytes((900, 900), (180, 60, 40)))
    lena.get_by_label("Choose an image").set_input_files(str(avatar))
    lena.get_by_role("button", name="Upload the avatar").click()
    lena.wait_for_url(f"{live.url}/studio/profile?m=avatar")
    assert lena.locator("img.avatar-image").evaluate("img => img.complete && img.naturalWidth") == 256
    browsing.shot(lena, "91-profile-saved")

    # someone else finds her by skill and opens her page
    marc = signed_in(browsing, shop.register(role="buyer", name="Marc"), live.url)
    marc.goto(f"{live.url}/creators")
    marc.get_by_label("Skill").fill("foley")
    marc.get_by_role("button", name="Search").click()
    card = marc.locator(".creator-card", has_text="Lena Weber")
    assert "Esch-sur-Alzette" in card.inner_text() and "foley" in card.inner_text()
    browsing.shot(marc, "92-find-creators-by-skill")
    card.get_by_role("link", name="Lena Weber").click()
    marc.wait_for_url(f"{live.url}/creators/{lena_user['id']}")
    profile = marc.locator(".profile")
    text = profile.inner_text()
    assert "Sound designer from Esch." in text and "Esch-sur-Alzette" in text
    assert "Music" in text and "sound design" in text
    assert profile.get_by_role("link", name="https://lena.example.lu").get_attribute("rel").startswith("nofollow")
    assert marc.locator(".profile img.avatar-image").evaluate("img => img.complete && img.naturalWidth") == 256
    browsing.shot(marc, "93-creator-page-profile")

    phone = signed_in(browsing, None, live.url, viewport=PHONE)
    phone.goto(f"{live.url}/creators/{lena_user['id']}")
    browsing.shot(phone, "94-creator-page-profile-phone", full_page=False)

    # the account page and its confirmation step
    lena.goto(f"{live.url}/account")
    browsing.shot(lena, "95-account")
    lena.get_by_role("link", name="Delete my account…").click()
    lena.get_by_label("Password").fill(lena_user["password"])
    lena.get_by_role("button", name="Delete my account").click()
    assert "Tick the box" in lena.locator("#confirm-error").inner_text()
    browsing.shot(lena, "96-account-delete-confirm")
    # the refused forms answer 422 and 400 (Chromium logs those); nothing else went wrong
    assert [e for e in browsing.console_errors if "Failed to load resource" not in e] == []
