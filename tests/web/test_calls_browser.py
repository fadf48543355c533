"""An open call in a real browser (Chromium): the caller posts it, a creator answers with a team member found by
name, the member accepts in another browser context, the caller awards and pays by card on the Stripe double's
hosted page, and the call is paid with each member's share credited. Screenshots on desktop and on a phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.payments.conftest import Shop
from tests.web.conftest import PHONE
from tests.web.market import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_a_call_is_posted_answered_by_a_team_awarded_and_paid(make_live, browsing):
    live = make_live()
    shop = Shop(live)
    caller_user = shop.register(role="buyer", name="Luxembourg Creative Cluster")
    anna_user = shop.register(name="Anna Schmit")
    ben_user = shop.register(name="Ben Muller")
    caller = signed_in(browsing, caller_user, live.url)
    anna = signed_in(browsing, anna_user, live.url)
    ben = signed_in(browsing, ben_user, live.url)

    # the caller posts a call
    caller.goto(f"{live.url}/calls")
    caller.get_by_role("link", name="Post a call").click()
    caller.get_by_label("Title").fill("A sound and light show for Schueberfouer")
    caller.get_by_label("Brief").fill("Twelve minutes of music and projection on the Glacis.\nBudget includes rights.")
    caller.get_by_label("Music").check()
    caller.get_by_label("Digital art").check()
    caller.get_by_label("Budget (€)").fill("2500")
    caller.get_by_label("Deadline for proposals").fill((datetime.now(UTC) + timedelta(days=20)).date().isoformat())
    browsing.shot(caller, "60-call-new")
    caller.get_by_role("button", name="Post the call").click()
    caller.wait_for_url(re.compile(rf"{re.escape(live.url)}/calls/\d+$"))
    call_url = caller.url
    assert "€2,500.00" in caller.locator(".call-facts").inner_text()
    browsing.shot(caller, "61-call-posted")

    # Anna answers with Ben, found by name, from the calls list
    anna.goto(f"{live.url}/calls")
    browsing.shot(anna, "62-calls-list")
    anna.get_by_role("link", name="A sound and light show for Schueberfouer").click()
    anna.get_by_role("link", name="Answer with a team").click()
    anna.get_by_label("Name").fill("muller")
    anna.get_by_role("button", name="Search").click()
    anna.get_by_role("link", name="Add to the team").click()
    anna.get_by_label("Role").first.fill("projection artist")
    anna.get_by_label("Role").nth(1).fill("composer")
    anna.get_by_label("Share (%)").first.fill("70")
    anna.get_by_label("Share (%)").nth(1).fill("20")
    anna.get_by_label("Title of the proposal").fill("Lights over the Glacis")
    anna.get_by_label("Pitch").fill("Anna projects, Ben scores; rehearsals in August.")
    anna.get_by_role("button", name="Send the proposal").click()
    assert "The shares must add up to 100 %" in anna.locator("#team-error").inner_text()
    browsing.shot(anna, "63-call-answer-shares-refused")
    anna.get_by_label("Share (%)").nth(1).fill("30")
    anna.get_by_role("button", name="Send the proposal").click()
    anna.wait_for_url(call_url)
    assert "Forming: waiting for the team" in anna.locator(".proposal").inner_text()
    browsing.shot(anna, "64-call-proposal-forming")

    # Ben accepts in his own browser, from the studio
    ben.goto(f"{live.url}/studio")
    invitation = ben.locator("#invitations li", has_text="Lights over the Glacis")
    browsing.shot(ben, "65-studio-invitation", full_page=False)
    invitation.get_by_role("button", name="Accept").click()
    ben.wait_for_url(f"{live.url}/studio#invitations")
    assert "No invitation to a team right now." in ben.locator("#invitations").inner_text()

    # the caller sees the submitted proposal, awards it and pays
    caller.reload()
    proposal = caller.locator(".proposal", has_text="Lights over the Glacis")
    assert "Submitted" in proposal.inner_text() and "70%" in proposal.inner_text()
    browsing.shot(caller, "66-call-caller-proposals")
    proposal.get_by_role("button", name="Award this proposal").click()
    caller.wait_for_url(call_url)
    caller.get_by_role("button", name="Pay €2,500.00 by card").click()
    caller.wait_for_url(f"{live.double.public_url}/pay/**")
    caller.get_by_role("button", name="Pay", exact=True).click()
    caller.wait_for_url(re.compile(rf"{re.escape(call_url)}\?purchase=\d+&session_id=cs_"))
    for _ in range(100):  # the webhook arrives on its own time: the page shows it once reloaded
        if "Paid: each member" in caller.locator("main").inner_text():
            break
        caller.wait_for_timeout(100)
        caller.reload()
    assert caller.locator("h1 .badge").inner_text() == "Paid"
    browsing.shot(caller, "67-call-paid")
    # 2,500.00 - 10 % = 2,250.00: Anna 70 % = 1,575.00, Ben 30 % = 675.00
    for user, cents in ((anna_user, 157_500), (ben_user, 67_500)):
        assert shop.client.get("/api/me/earnings", headers=user["headers"]).json()["balance_cents"] == cents

    # the one refused form (422) is all our pages' console reports so far (the double's page has no favicon)
    assert [e for e in browsing.console_errors if e.startswith(live.url) and "/answer" not in e] == []
    browsing.console_errors.clear()
    phone = browsing.browser.new_context(viewport=PHONE, storage_state=anna.context.storage_state())
    browsing.contexts.append(phone)
    small = phone.new_page()
    browsing.watch(small)
    for path, name in ((call_url, "68-phone-call"), (f"{live.url}/calls", "69-phone-calls"),
                       (f"{call_url}/answer?members={ben_user['id']}", "70-phone-call-answer")):
        small.goto(path)
        assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        browsing.shot(small, name)
    assert browsing.console_errors == []
