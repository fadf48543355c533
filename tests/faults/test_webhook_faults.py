"""The webhook endpoint failing, so the Stripe double retries with backoff as Stripe does: the app's server stopped
while `checkout.session.completed` is being delivered, or the database it needs unreachable. Once the endpoint is
back, a retry lands and the purchase is delivered exactly once."""

from __future__ import annotations

import time

import psycopg
import pytest

from marketplace.payments.models import LedgerEntry, StripeEvent
from tests.faults.invariants import assert_consistent, assert_refunds_match, transfer_logs, wait_until_settled
from tests.payments.conftest import Shop, rows
from tests.plugins.db_fixtures import PG_ADMIN_URL

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.slow]


def failed_attempts(double, event_id: str, n: int, *, timeout: float = 20.0) -> list[dict]:
    """Wait until the event's webhook failed at least `n` times (and never succeeded)."""
    deadline = time.monotonic() + timeout
    while True:
        attempts = (double.delivery(event_id) or {}).get("attempts", [])
        assert not any(a["ok"] for a in attempts), attempts
        if len(attempts) >= n:
            return attempts
        assert time.monotonic() < deadline, f"only {len(attempts)} attempt(s) within {timeout} s"
        time.sleep(0.02)


def assert_delivered_once(shop: Shop, buyer: dict, purchase_id: int, event_id: str, token_id: int, chain) -> None:
    done = shop.wait_purchase(buyer, purchase_id, "delivered")
    assert done["wallet_address"] == buyer["wallet_address"]
    assert shop.live.double.delivery(event_id)["attempts"][-1]["ok"] is True
    assert [e.id for e in rows(StripeEvent) if e.type == "checkout.session.completed"] == [event_id]
    assert sorted(e.entry_type for e in rows(LedgerEntry)) == ["sale_creator", "sale_platform_fee"]
    assert len(transfer_logs(chain, token_id)) == 2  # minted, then delivered: once
    wait_until_settled()
    assert_consistent(chain, health=lambda: shop.client.get("/api/health").status_code)
    assert_refunds_match(shop.live.double)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_server_down_while_the_webhook_is_delivered(make_live, chain):
    first = Shop(make_live())
    first.live.double.state.webhooks.max_attempts = 30  # Stripe retries for days; here long enough for a restart
    creator, buyer = first.register(), first.register(role="buyer")
    work = first.minted_work(creator)
    r = first.checkout(buyer, work["id"])
    first.live.server.stop()  # the app goes away; the buyer pays meanwhile

    first.hosted(r.json()["checkout_url"], "pay")
    event = first.live.double.wait_for_event("checkout.session.completed")
    attempts = failed_attempts(first.live.double, event["id"], 2)
    assert all(a["status"] is None and a["error"] for a in attempts)  # connection refused

    second = Shop(make_live())  # back (a new process on a new port; the endpoint follows it)
    assert_delivered_once(second, buyer, r.json()["purchase_id"], event["id"], work["token_id"], chain)


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_database_unreachable_while_the_webhook_is_delivered(make_live, db_url, chain):
    shop = Shop(make_live())
    shop.live.double.state.webhooks.max_attempts = 30
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    r = shop.checkout(buyer, work["id"])

    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                          "AND backend_type = 'client backend'", (name,))
            shop.hosted(r.json()["checkout_url"], "pay")
            event = shop.live.double.wait_for_event("checkout.session.completed")
            attempts = failed_attempts(shop.live.double, event["id"], 2)
            assert {a["status"] for a in attempts} == {503}
            assert all('"database_unavailable"' in a["response_body"] for a in attempts)
            assert shop.client.get("/api/health").status_code == 200  # the product still answers
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')

    assert_delivered_once(shop, buyer, r.json()["purchase_id"], event["id"], work["token_id"], chain)
