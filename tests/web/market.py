"""A small market for the browser tests: a creator with minted works, a buyer who owns one (delivered), and
browsers signed in as either (the session cookie holds the same access token as the API)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.faults.invariants import wait_indexed_owner
from tests.payments.conftest import Shop


@dataclass
class Market:
    shop: Shop
    creator: dict
    works: list[dict]
    buyer: dict
    sold: dict  # the work the buyer holds (when the market was built with `buy`)
    purchase_id: int

    @property
    def url(self) -> str:
        return self.shop.live.url


def build_market(live, *, works: list[dict] | None = None, buy: bool = True) -> Market:
    """The creator mints `works` (fields for the API upload; three photographs by default) and, with `buy`,
    the buyer pays for the first and holds its token."""
    shop = Shop(live)
    creator = shop.register(role="creator", name="Anna Schmit Studio")
    works = works or [{"title": f"Kirchberg at Dusk {n}", "price_cents": 1200 + 100 * n} for n in range(3)]
    minted = [shop.minted_work(creator, **fields) for fields in works]
    buyer = shop.register(role="buyer", name="Marie Buyer")
    sold, purchase_id = minted[0], 0
    if buy:
        r = shop.checkout(buyer, sold["id"])
        assert r.status_code == 201, r.text
        assert shop.hosted(r.json()["checkout_url"], "pay").status_code == 303
        purchase_id = r.json()["purchase_id"]
        shop.wait_purchase(buyer, purchase_id, "delivered")
        wait_indexed_owner(sold["token_id"], buyer["wallet_address"])  # the pages show the index's owners
        sold = shop.client.get(f"/api/works/{sold['id']}").json()
    return Market(shop=shop, creator=creator, works=minted, buyer=buyer, sold=sold, purchase_id=purchase_id)


def signed_in(browsing, user: dict | None, base: str, **person):
    """A browser (page) of this user, or of a visitor when `user` is None."""
    page = browsing.person(**person)
    if user is not None:
        token = user["headers"]["Authorization"].split()[1]
        page.context.add_cookies([{"name": "mp_session", "value": token, "url": base}])
    return page
