"""An admin curates an exhibition in a real browser (Chromium): "New exhibition" from the exhibitions page, the
form, then its curation page: find a work by its title, add it, add a second, take one out; the public page shows
what was chosen. Screenshots of each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.payments.conftest import Shop
from tests.web.market import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_an_admin_makes_an_exhibition_and_chooses_its_works(make_live, browsing):
    live = make_live()
    shop = Shop(live)
    creator = shop.register(name="Anna Schmit Studio")
    kept = shop.minted_work(creator, title="Esch blast furnace")
    dropped = shop.minted_work(creator, title="Belval in fog")
    admin_user = shop.register_admin()
    today = datetime.now(UTC).date()

    admin = signed_in(browsing, admin_user, live.url)
    admin.goto(f"{live.url}/exhibitions")
    admin.get_by_role("link", name="New exhibition").click()
    admin.wait_for_url(f"{live.url}/exhibitions/new")
    admin.get_by_label("Address").fill("open-studio-belval")
    admin.get_by_label("Title").fill("Open studio at Belval")
    admin.get_by_label("Text").fill("A game studio opens its doors.\nWorks by its artists.")
    admin.get_by_label("Last day").fill((today + timedelta(days=2)).isoformat())
    admin.get_by_label("Place").fill("Belval, Esch-sur-Alzette")
    admin.get_by_label("Event").select_option("open_studio")
    browsing.shot(admin, "95-new-exhibition")
    admin.get_by_role("button", name="Create the exhibition").click()
    admin.wait_for_url(f"{live.url}/exhibitions/open-studio-belval/curate")

    admin.get_by_label("Find published works").fill("furnace")
    admin.get_by_role("button", name="Find", exact=True).click()
    admin.get_by_role("button", name="Add: Esch blast furnace").click()
    admin.wait_for_url(f"{live.url}/exhibitions/open-studio-belval/curate")
    admin.get_by_role("button", name="Add: Belval in fog").click()
    admin.wait_for_url(f"{live.url}/exhibitions/open-studio-belval/curate")
    browsing.shot(admin, "96-curate")
    admin.get_by_role("button", name="Take out: Belval in fog").click()
    admin.wait_for_url(f"{live.url}/exhibitions/open-studio-belval/curate")
    assert admin.get_by_role("button", name="Take out: Esch blast furnace").count() == 1
    assert admin.get_by_role("button", name="Take out: Belval in fog").count() == 0

    visitor = signed_in(browsing, None, live.url)
    visitor.goto(f"{live.url}/")
    visitor.get_by_role("link", name="Open studio at Belval").click()
    visitor.wait_for_url(f"{live.url}/exhibitions/open-studio-belval")
    assert visitor.get_by_role("link", name="Esch blast furnace").count() == 1
    assert visitor.get_by_role("link", name="Belval in fog").count() == 0
    assert visitor.get_by_text("Belval, Esch-sur-Alzette").count() == 1
    browsing.shot(visitor, "97-exhibition-curated")
    detail = shop.client.get("/api/exhibitions/open-studio-belval").json()
    assert [w["id"] for w in detail["works"]] == [kept["id"]] and dropped["id"] not in {w["id"] for w in
                                                                                         detail["works"]}
