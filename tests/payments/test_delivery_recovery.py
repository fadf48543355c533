"""A crash between payment and delivery: the next process delivers, exactly once. (The worker killed in each
delivery state: tests/faults/test_worker_kills.py.)"""

from __future__ import annotations

import time

import pytest

from tests.payments.conftest import Shop, ledger
from tests.payments.test_checkout import transfers

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def test_paid_purchase_is_delivered_by_the_next_process(make_live, anvil, contract_address):
    first = Shop(make_live(run_delivery_worker=False))
    creator, buyer = first.register(), first.register(role="buyer")
    work = first.minted_work(creator)
    r = first.checkout(buyer, work["id"])
    first.hosted(r.json()["checkout_url"], "pay")
    first.wait_purchase(buyer, r.json()["purchase_id"], "paid")
    time.sleep(0.5)
    assert first.purchase(buyer, r.json()["purchase_id"])["status"] == "paid"  # nobody delivers in this process
    first.live.server.stop()  # the process goes away between payment and delivery

    second = Shop(make_live())  # a restart: its delivery worker resumes
    done = second.wait_purchase(buyer, r.json()["purchase_id"], "delivered")
    assert done["wallet_address"] == buyer["wallet_address"]
    assert len(transfers(anvil, contract_address, work["token_id"])) == 2
    assert len(ledger()) == 2
