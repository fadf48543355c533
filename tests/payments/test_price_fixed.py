"""A price is fixed for a checkout: refused while one is open (the API and the studio alike), free again once it
ended, and a price change racing a checkout never makes the buyer pay another price than the one recorded."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import stripe
from sqlmodel import Session, col, select

from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.payments import checkout as checkout_flow
from marketplace.payments.models import ACTIVE_STATUSES, Purchase
from tests.payments.conftest import Shop, purchases

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

STUDIO_MESSAGE = "A buyer is paying for this work at its current price: change it once that checkout ends."


def remote_amount(shop: Shop, purchase: Purchase) -> int:
    client = stripe.StripeClient(shop.live.double.api_key, base_addresses={"api": shop.live.double.api_base})
    return client.v1.checkout.sessions.retrieve(purchase.stripe_session_id).amount_total


def work_row(work_id: int) -> Work:
    with Session(db.get_engine()) as session:
        return session.get(Work, work_id)


def active_purchases(work_id: int) -> list[Purchase]:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(Purchase).where(Purchase.work_id == work_id,
                                                        col(Purchase.status).in_(ACTIVE_STATUSES))).all())


def patch_price(shop: Shop, creator: dict, work_id: int, cents: int) -> httpx.Response:
    return shop.client.patch(f"/api/works/{work_id}", json={"price_cents": cents}, headers=creator["headers"])


def studio_price(shop: Shop, creator: dict, work_id: int, euros: str) -> httpx.Response:
    return shop.form_post(creator, "/studio", f"/studio/works/{work_id}/price", {"price": euros},
                          headers={"HX-Request": "true"})


def test_the_price_is_fixed_while_a_checkout_is_open_in_the_api_and_the_studio(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=2500)
    pid = shop.checkout(buyer, work["id"]).json()["purchase_id"]

    refused = patch_price(shop, creator, work["id"], 3000)
    assert refused.status_code == 409
    assert refused.json() == {"code": "price_fixed", "detail": catalog_service.CHECKOUT_PRICE_FIXED}
    form = studio_price(shop, creator, work["id"], "30")
    assert form.status_code == 200 and STUDIO_MESSAGE in form.text and 'aria-invalid="true"' in form.text
    assert work_row(work["id"]).price_cents == 2500

    # the checkout expires at Stripe: the price may change again, and the next buyer pays the new one
    sid = purchases()[0].stripe_session_id
    httpx.post(f"{shop.live.double.api_base}/v1/test_helpers/checkout/sessions/{sid}/expire_now",
               headers={"Authorization": f"Bearer {shop.live.double.api_key}"}).raise_for_status()
    shop.wait_purchase(buyer, pid, "expired")
    changed = patch_price(shop, creator, work["id"], 3000)
    assert changed.status_code == 200 and changed.json()["price_cents"] == 3000
    assert "Price saved." in studio_price(shop, creator, work["id"], "31").text
    second = shop.checkout(buyer, work["id"]).json()
    purchase = next(p for p in purchases() if p.id == second["purchase_id"])
    assert purchase.amount_cents == remote_amount(shop, purchase) == 3100


def test_a_price_change_between_reading_the_work_and_reserving_it_refuses_the_checkout(shop: Shop, monkeypatch):
    """The creator's change lands after the checkout read the price and before it reserved the work: the buyer
    is told to reload, nothing is reserved and Stripe hears nothing."""
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=2500)
    real = checkout_flow._release_stale_reservations
    changed: list[int] = []

    def creator_changes_the_price_meanwhile(**kwargs):
        real(**kwargs)
        if not changed:
            changed.append(patch_price(shop, creator, work["id"], 3000).status_code)

    monkeypatch.setattr(checkout_flow, "_release_stale_reservations", creator_changes_the_price_meanwhile)
    sessions_before = len(shop.live.double.state.store.sessions)
    r = shop.checkout(buyer, work["id"])
    assert changed == [200]
    assert r.status_code == 409 and "price has just changed" in r.json()["detail"]
    assert active_purchases(work["id"]) == [] and len(shop.live.double.state.store.sessions) == sessions_before
    assert (work_row(work["id"]).price_cents, work_row(work["id"]).sale_status) == (3000, "available")

    monkeypatch.setattr(checkout_flow, "_release_stale_reservations", real)
    again = shop.checkout(buyer, work["id"])
    assert again.status_code == 201
    [purchase] = active_purchases(work["id"])
    assert purchase.amount_cents == remote_amount(shop, purchase) == 3000


def test_a_price_change_after_the_reservation_is_refused_and_the_session_has_the_recorded_price(shop: Shop,
                                                                                              monkeypatch):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=2500)
    gateway = shop.live.services.gateway
    real = gateway.create_checkout_session
    changed: list[httpx.Response] = []

    def creator_changes_the_price_meanwhile(**kwargs):
        changed.append(patch_price(shop, creator, work["id"], 3000))
        return real(**kwargs)

    monkeypatch.setattr(gateway, "create_checkout_session", creator_changes_the_price_meanwhile)
    r = shop.checkout(buyer, work["id"])
    assert r.status_code == 201
    assert changed[0].status_code == 409 and changed[0].json()["code"] == "price_fixed"
    [purchase] = active_purchases(work["id"])
    assert purchase.amount_cents == remote_amount(shop, purchase) == work_row(work["id"]).price_cents == 2500


def test_price_changes_racing_checkouts_never_charge_another_price_than_recorded(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=2500)
    prices = [2600, 2700, 2800, 2900, 3000, 3100, 3200, 3300]
    with ThreadPoolExecutor(2) as pool:
        for new_price in prices:
            start = threading.Barrier(2)

            def change(price=new_price, start=start):
                start.wait()
                return patch_price(shop, creator, work["id"], price)

            def buy(start=start):
                start.wait()
                return shop.checkout(buyer, work["id"])

            patched, bought = pool.submit(change), pool.submit(buy)
            patched, bought = patched.result(), bought.result()
            assert patched.status_code in (200, 409) and bought.status_code in (201, 409), (patched.text,
                                                                                         bought.text)
            assert patched.status_code == 200 or bought.status_code == 201  # one of them always goes through
            current = work_row(work["id"]).price_cents
            if bought.status_code == 201:
                [purchase] = active_purchases(work["id"])
                # what Stripe charges is what the purchase records and what the work showed when it was reserved
                assert purchase.amount_cents == remote_amount(shop, purchase) == current
                if patched.status_code == 200:
                    assert current == new_price  # the change came first; the checkout read the new price
                cancel = shop.client.post(f"/api/purchases/{purchase.id}/cancel", headers=buyer["headers"])
                assert cancel.status_code == 200, cancel.text
            else:
                assert patched.status_code == 200 and current == new_price  # refused only for a price change
                assert "price has just changed" in bought.json()["detail"]
                assert active_purchases(work["id"]) == []
