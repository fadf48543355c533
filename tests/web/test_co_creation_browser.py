"""Three creators make a work together in real browsers (Chromium): the uploader finds the others by name and gives
them shares and roles in the studio (the total summed live), each accepts in their own browser, the work is
minted and a buyer pays for it by card; every creator is credited their share. Screenshots of each step go to
test-artifacts/screenshots/ (desktop, and the creators form on a 390 px phone)."""

from __future__ import annotations

import re

import pytest

from tests.catalog.crews import Team
from tests.payments.conftest import Shop
from tests.web.conftest import PHONE
from tests.web.test_browser import buy
from tests.web.market import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def add_creator(page, form, name: str, share: str, role: str) -> None:
    search = form.get_by_label("Find creators by name")
    search.fill(name.split()[0])
    form.get_by_role("button", name=f"Add: {name}").click()
    page.get_by_label(f"Share of {name} (%)").fill(share)
    page.get_by_label(f"Role of {name}").fill(role)


def test_three_creators_invite_accept_mint_and_sell(make_live, browsing):
    live = make_live()
    shop = Shop(live)
    team = Team(shop, price_cents=999)
    base, work_id = live.url, team.work["id"]

    # --- the uploader names the creators in the studio
    uploader = signed_in(browsing, team.uploader, base)
    uploader.goto(f"{base}/studio#work-{work_id}")
    crew = uploader.locator(f"#crew-{work_id}")
    crew.locator("summary").click()
    form = crew.locator("form")
    uploader.get_by_label("Share of Anna Schmit (%)").fill("50")
    uploader.get_by_label("Role of Anna Schmit").fill("photographer")
    add_creator(uploader, form, "Luc Weber", "30", "composer")
    total = form.locator("[data-crew-total]")
    assert total.inner_text() == "Total: 80% — The shares must add up to 100 %."  # live, before sending
    form.get_by_role("button", name="Save the creators").click()
    assert form.locator("[data-crew-error]").inner_text() == "Please correct the fields marked below."
    assert uploader.url.endswith(f"#work-{work_id}")  # the browser kept it: nothing was sent
    browsing.shot(uploader, "co-01-studio-shares-not-100")
    add_creator(uploader, form, "Sofia Reis", "20", "3D artist")
    assert total.inner_text() == "Total: 100%"
    with uploader.expect_navigation():
        form.get_by_role("button", name="Save the creators").click()
    crew = uploader.locator(f"#crew-{work_id}")
    assert [b.inner_text() for b in crew.locator(".crew-who .badge").all()] == ["Accepted", "Invited", "Invited"]
    browsing.shot(uploader, "co-02-studio-creators-invited")
    # minting waits for the invited creators, and says so
    waiting = uploader.locator(f"#mint-{work_id}")
    assert waiting.get_by_role("button", name="Mint").is_disabled()
    assert waiting.locator(".hint").inner_text() == "Minting waits for every creator to accept: Luc Weber, Sofia Reis."

    # --- the composer accepts in their own browser; the modeller too, on a phone
    for user, viewport, shot in ((team.composer, None, "co-03-invitation"), (team.modeller, PHONE, None)):
        page = signed_in(browsing, user, base, **({"viewport": viewport} if viewport else {}))
        page.goto(f"{base}/studio")
        invitation = page.locator(f"#invitation-{work_id}")
        assert "Invited by Anna Schmit" in invitation.inner_text()
        if shot:
            browsing.shot(page, shot)
        with page.expect_navigation():
            invitation.get_by_role("button", name="Accept", exact=True).click()
        assert page.locator(f"#invitation-{work_id} .badge").first.inner_text() == "Accepted"
        assert page.locator(f"#invitation-{work_id}").get_by_role("button", name="Decline", exact=True).count() == 1
    browsing.shot(page, "co-04-invitation-accepted-phone")

    # --- the uploader mints; the creators form on a phone first
    phone = signed_in(browsing, team.uploader, base, viewport=PHONE)
    phone.goto(f"{base}/studio#work-{work_id}")
    browsing.shot(phone, "co-05-studio-creators-phone")
    uploader.reload()  # everyone accepted: minting may start
    uploader.locator(f"#mint-{work_id}").get_by_role("button", name="Mint").click()
    uploader.locator(f"#mint-{work_id}[data-status=minted]").wait_for(timeout=60_000)

    # --- a buyer sees every creator on the work page and pays by card
    buyer_user = shop.register(role="buyer", name="Marie Buyer")
    buyer = signed_in(browsing, buyer_user, base)
    buyer.goto(f"{base}/works/{work_id}")
    assert buyer.locator(".byline").inner_text() == "by Anna Schmit, Luc Weber and Sofia Reis"
    credits = buyer.locator("#work-creators").inner_text()
    assert re.search(r"Luc Weber\s*· composer\s*30%", credits), credits
    browsing.shot(buyer, "co-06-work-page-creators")
    buy(buyer, re.compile(r"Buy for €9\.99"))
    buyer.wait_for_url(f"{live.double.public_url}/pay/**")
    buyer.get_by_role("button", name="Pay", exact=True).click()
    buyer.get_by_text("Delivered: the token is in your wallet.").wait_for(timeout=45_000)

    # --- each creator's share of the creators' part (€9.99 - €0.99 fee = €9.00), in their studio
    for user, cents in ((team.uploader, 450), (team.composer, 270), (team.modeller, 180)):
        page = signed_in(browsing, user, base)
        page.goto(f"{base}/studio")
        assert page.locator("#balance").inner_text() == f"€{cents / 100:.2f}"
        assert "Schueberfouer" in page.locator("#sales").inner_text()
        ledger = shop.client.get("/api/me/ledger", headers=user["headers"]).json()["data"]
        assert [e["amount_cents"] for e in ledger] == [cents]
    browsing.shot(page, "co-07-studio-co-creator-sale")
    minted = shop.client.get(f"/api/works/{work_id}").json()
    page.goto(f"{base}/tokens/{minted['token_id_hex']}")
    assert "Sofia Reis" in page.locator("#cert-creators").inner_text()
    browsing.shot(page, "co-08-certificate-creators")
