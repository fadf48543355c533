"""/network in Chromium: a network of 200 creators on a phone (390 px: the page never scrolls sideways, the drawing
pans inside its frame at a readable scale, the hubs' names are legible, the hubs' table is there) and a small one
on a laptop; no Content-Security-Policy violation (the browsing fixture checks it)."""

from __future__ import annotations

import random

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from marketplace.accounts.models import Account
from marketplace.core import db
from marketplace.core.config import DISCIPLINES
from tests.organisations.helpers import published_work
from tests.web.conftest import DESKTOP, PHONE
from tests.web.test_phone_browser import fits

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def _sector(creators: int, works: int, prefix: str) -> None:
    """Creators as rows, and co-created works of two or three of them (mostly of one discipline)."""
    rng = random.Random(5)
    with Session(db.get_engine()) as session:
        people = [Account(email=f"{prefix}{i}@example.lu", display_name=f"Netzwierk {prefix} {i:03d}", role="creator",
                          password_hash="!") for i in range(creators)]
        session.add_all(people)
        session.commit()
        ids = [p.id for p in people]
    for _ in range(works):
        discipline = rng.choice(DISCIPLINES)
        pool = [a for k, a in enumerate(ids) if DISCIPLINES[k % len(DISCIPLINES)] == discipline]
        crew = rng.sample(pool if len(pool) >= 3 else ids, rng.choice((2, 3)))
        published_work(crew[0], discipline, crew=crew)


def test_a_large_network_on_a_phone_and_a_small_one_on_a_laptop(make_live, browsing):
    live = make_live()
    _sector(12, 10, "small")
    laptop = browsing.person(viewport=DESKTOP)
    laptop.goto(f"{live.url}/network")
    expect(laptop.locator("svg.network-svg")).to_be_visible()
    assert laptop.locator(".net-node").count() == len(httpx.get(f"{live.url}/api/network").json()["nodes"]) >= 10
    hub = laptop.locator(".net-labels text").first
    assert hub.bounding_box()["height"] >= 10  # a name at least 10 px tall on the screen
    browsing.shot(laptop, "network-01-small-laptop")

    _sector(200, 420, "large")
    phone = browsing.person(viewport=PHONE, locale="fr-FR")
    phone.goto(f"{live.url}/network")
    expect(phone.get_by_role("heading", name="Le réseau des collaborations")).to_be_visible()
    assert phone.locator(".net-node").count() == len(httpx.get(f"{live.url}/api/network").json()["nodes"]) > 200
    fits(phone)  # the page itself does not scroll sideways ...
    frame = phone.locator(".network-figure")
    sizes = frame.evaluate("f => [f.scrollWidth, f.clientWidth]")
    assert sizes[0] > sizes[1], sizes  # ... the drawing pans inside its frame instead of shrinking to dots
    names = phone.locator(".net-labels text")
    assert names.count() >= 5
    assert min(names.nth(i).bounding_box()["height"] for i in range(names.count())) >= 9
    hubs = phone.locator("table.network-hubs .hub-row")
    assert hubs.count() == 10
    expect(hubs.first).to_be_visible()
    browsing.shot(phone, "network-02-phone")
