"""What a withdrawal may not overtake (anvil, IPFS, the Stripe double): a buyer's checkout of the token (the
creator's unique work on primary sale, pending or paid), a resale listing being made at the same moment, and the
account's deletion (its linked wallets forgotten: nothing is sent to them)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from eth_account import Account as EthAccount
from sqlmodel import Session, select

from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.core.db import utcnow
from marketplace.payments import withdrawals
from marketplace.payments.models import Purchase, TokenWithdrawal
from marketplace.resale.models import Listing
from tests.payments.conftest import Shop, rows
from tests.resale.helpers import buy, list_token, owner_on_chain, sell
from tests.resale.wallet_helpers import WALLET, link, wait_withdrawal, withdrawal_row

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def withdraw(shop: Shop, user: dict, token_id, to: str = WALLET.address):
    return shop.client.post(f"/api/tokens/{token_id}/withdraw", json={"to_address": to}, headers=user["headers"])


def sale_status(work_id: int) -> str:
    with Session(db.get_engine()) as session:
        return session.get(Work, work_id).sale_status


def withdrawals_of_token(token_id) -> list[TokenWithdrawal]:
    return [w for w in rows(TokenWithdrawal) if w.token_id == str(token_id)]


def worker_of(shop: Shop):
    from marketplace.services import build_delivery_worker, build_services

    return build_delivery_worker(build_services(shop.settings()))


def test_a_creator_cannot_withdraw_a_work_a_buyer_is_checking_out_or_has_paid(make_live, anvil, contract_address):
    shop = Shop(make_live(run_delivery_worker=False))
    creator = shop.register(name="Anna")
    assert link(shop, creator, WALLET).status_code == 201
    work = shop.minted_work(creator, price_cents=1500)
    buyer = shop.register(role="buyer")
    r = shop.checkout(buyer, work["id"])
    assert r.status_code == 201, r.text
    r_open = r.json()
    assert sale_status(work["id"]) == "reserved"
    # the checkout is open: refused, nothing queued, the token stays where the sale delivers from
    r = withdraw(shop, creator, work["token_id"])
    assert r.status_code == 409 and "checkout of this token is open or paid" in r.json()["detail"], r.text
    assert withdrawals_of_token(work["token_id"]) == []
    # paid, not delivered yet: still refused; then the buyer gets the token
    checkout = r_open
    shop.hosted(checkout["checkout_url"], "pay")
    shop.wait_purchase(buyer, checkout["purchase_id"], "paid")
    r = withdraw(shop, creator, work["token_id"])
    assert r.status_code == 409 and "open or paid" in r.json()["detail"], r.text
    worker_of(shop).deliver_batch()
    done = shop.wait_purchase(buyer, checkout["purchase_id"], "delivered")
    assert withdrawals_of_token(work["token_id"]) == []
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == buyer["custodial_address"]
    assert done["status"] == "delivered"


def test_a_withdrawal_takes_the_work_off_sale_and_checkouts_wait_for_it(make_live, anvil, contract_address):
    shop = Shop(make_live(run_delivery_worker=False))
    creator = shop.register(name="Anna")
    assert link(shop, creator, WALLET).status_code == 201
    work = shop.minted_work(creator, price_cents=1500)
    assert sale_status(work["id"]) == "available"
    r = withdraw(shop, creator, work["token_id"])
    assert r.status_code == 202, r.text
    withdrawn = r.json()
    assert sale_status(work["id"]) == "withdrawn"  # in the withdrawal's own transaction
    buyer = shop.register(role="buyer")
    r = shop.checkout(buyer, work["id"])
    assert r.status_code == 409 and r.json()["detail"] == withdrawals.MOVING, r.text
    assert [p for p in rows(Purchase) if p.work_id == work["id"]] == []
    assert worker_of(shop).withdraw_batch() == 1
    assert wait_withdrawal(withdrawn["id"], "done").tx_hash
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == WALLET.address
    assert shop.checkout(buyer, work["id"]).status_code == 409


def test_a_resale_checkout_waits_for_a_pending_withdrawal(shop: Shop, anvil, contract_address):
    creator = shop.register()
    work = shop.minted_work(creator, price_cents=1500)
    seller, _ = sell(shop, work["id"])
    listing = list_token(shop, seller, work["token_id"], 2000).json()
    # a withdrawal row that got in (written straight: the API refuses it while the listing is active)
    with Session(db.get_engine()) as session:
        session.add(TokenWithdrawal(account_id=seller["id"], token_id=str(work["token_id"]),
                                    from_address=seller["custodial_address"], to_address=WALLET.address,
                                    claimed_by="elsewhere", claimed_until=utcnow() + timedelta(hours=1)))
        session.commit()
    r = buy(shop, shop.register(role="buyer"), listing["id"])
    assert r.status_code == 409 and r.json()["detail"] == withdrawals.MOVING, r.text
    assert [p for p in rows(Purchase) if p.listing_id == listing["id"]] == []


def test_the_worker_fails_a_withdrawal_whose_token_a_buyer_holds(make_live, anvil, contract_address):
    shop = Shop(make_live(run_delivery_worker=False))
    creator = shop.register()
    assert link(shop, creator, WALLET).status_code == 201
    work = shop.minted_work(creator, price_cents=1500)
    r = withdraw(shop, creator, work["token_id"])
    assert r.status_code == 202, r.text
    buyer = shop.register(role="buyer")
    with Session(db.get_engine()) as session:  # a buyer's checkout that got past (say, from an older replica)
        session.add(Purchase(work_id=work["id"], buyer_id=buyer["id"], status="paid", amount_cents=1500,
                             wallet_address=buyer["custodial_address"], token_id=str(work["token_id"])))
        session.commit()
    assert worker_of(shop).withdraw_batch() == 1
    row = withdrawal_row(r.json()["id"])
    assert row.status == "failed" and row.tx_hash is None and row.last_error == withdrawals.ON_SALE
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == creator["custodial_address"]
    assert sale_status(work["id"]) == "available"  # off sale for the withdrawal only: back


def test_deleting_the_account_cancels_its_unsent_withdrawals(make_live, anvil, contract_address):
    shop = Shop(make_live(run_delivery_worker=False))
    creator = shop.register()
    assert link(shop, creator, WALLET).status_code == 201
    work = shop.minted_work(creator, price_cents=1500)
    r = withdraw(shop, creator, work["token_id"])
    assert r.status_code == 202, r.text
    r2 = shop.client.request("DELETE", "/api/me", headers=creator["headers"], json={"password": creator["password"]})
    assert r2.status_code == 204, r2.text
    row = withdrawal_row(r.json()["id"])
    assert row.status == "cancelled" and row.last_error == withdrawals.DELETED
    assert worker_of(shop).withdraw_batch() == 0  # nothing to send
    assert withdrawal_row(r.json()["id"]).tx_hash is None
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == creator["custodial_address"]


def test_a_listing_of_another_linked_wallet_s_token_says_it_is_in_your_own_wallet(shop: Shop, anvil,
                                                                                    contract_address):
    from tests.resale.wallet_helpers import OTHER_WALLET

    creator = shop.register()
    work = shop.minted_work(creator, price_cents=1500)
    me = shop.register(role="buyer")
    assert link(shop, me, WALLET).status_code == 201
    assert link(shop, me, OTHER_WALLET).status_code == 201  # linked_address stays the first
    r = shop.checkout(me, work["id"], wallet_address=OTHER_WALLET.address)
    assert r.status_code == 201, r.text
    assert shop.hosted_pay(r.json()["checkout_url"], "4242424242424242").status_code == 303
    shop.wait_purchase(me, r.json()["purchase_id"], "delivered")
    r = list_token(shop, me, work["token_id"], 3000)
    assert r.status_code == 409 and "in your own wallet" in r.json()["detail"], r.text


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_listing_and_withdrawing_one_token_at_once_lets_one_through(shop: Shop, anvil, contract_address, db_url):
    creator = shop.register()
    for round_ in range(3):
        work = shop.minted_work(creator, price_cents=1500, title=f"Race {round_}")
        seller, _ = sell(shop, work["id"])
        assert link(shop, seller, WALLET if round_ == 0 else EthAccount.create()).status_code == 201
        to = shop.client.get("/api/me/wallets", headers=seller["headers"]).json()[0]["address"]

        def attempt(i: int, seller=seller, token=work["token_id"], to=to):
            return list_token(shop, seller, token, 2000 + i) if i % 2 else withdraw(shop, seller, token, to)

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(attempt, range(8)))
        won = [a for a in answers if a.status_code in (201, 202)]
        assert len(won) == 1, [(a.status_code, a.text) for a in answers]
        assert all(a.status_code in (403, 409) for a in answers if a not in won), [a.text for a in answers]
        with Session(db.get_engine()) as session:
            listed = session.exec(select(Listing).where(Listing.token_id == str(work["token_id"]),
                                                        Listing.status == "active")).all()
            pending = session.exec(select(TokenWithdrawal).where(
                TokenWithdrawal.token_id == str(work["token_id"]))).all()
        assert len(listed) + len(pending) == 1, (listed, pending)
