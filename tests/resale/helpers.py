"""What the resale tests do: sell a work first, list its token, buy the listing, move a token outside."""

from __future__ import annotations

import time

from sqlmodel import Session, select
from web3 import Web3

from marketplace.accounts.wallets import custodial_signer
from marketplace.core import db
from marketplace.integrations.chain.client import load_artifact
from marketplace.payments.models import LedgerEntry, Purchase
from marketplace.resale.models import Listing
from tests.payments.conftest import CHECKOUT_BODY, Shop


def sell(shop: Shop, work_id: int, buyer: dict | None = None) -> tuple[dict, dict]:
    """A first sale, paid and delivered: (buyer, the delivered purchase)."""
    buyer = buyer or shop.register(role="buyer", name="Marie Collector")
    r = shop.checkout(buyer, work_id)
    assert r.status_code == 201, r.text
    assert shop.hosted_pay(r.json()["checkout_url"], "4242424242424242").status_code == 303
    return buyer, shop.wait_purchase(buyer, r.json()["purchase_id"], "delivered")


def list_token(shop: Shop, seller: dict, token_id, price_cents: int):
    return shop.client.post(f"/api/tokens/{token_id}/listings", json={"price_cents": price_cents},
                            headers=seller["headers"])


def buy(shop: Shop, buyer: dict, listing_id: int, **body):
    return shop.client.post(f"/api/listings/{listing_id}/checkout", json={**CHECKOUT_BODY, **body},
                            headers=buyer["headers"])


def pay(shop: Shop, checkout: dict) -> None:
    assert shop.hosted_pay(checkout["checkout_url"], "4242424242424242").status_code == 303


def contract(anvil, address):
    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
    return w3, w3.eth.contract(address=address, abi=load_artifact("CreativeWorks")["abi"])


def owner_on_chain(anvil, address, token_id) -> str:
    return contract(anvil, address)[1].functions.ownerOf(int(token_id)).call()


def send_outside(shop: Shop, anvil, address, holder: dict, token_id, to: str) -> None:
    """A transfer made outside the marketplace: signed with the holder's custody key (derived as the product
    derives it) by plain web3, the gas paid from anvil's second dev account."""
    from devtools.anvil import DEV_KEYS

    w3, token = contract(anvil, address)
    key = custodial_signer(shop.settings().wallet_secret.get_secret_value(), holder["id"])
    funder = w3.eth.account.from_key(DEV_KEYS[1])
    for account, tx in ((funder, {"to": key.address, "value": 10**17}),
                        (key, token.functions.safeTransferFrom(key.address, to, int(token_id)).build_transaction(
                            {"from": key.address, "gas": 200_000}))):
        tx = {**tx, "from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending"),
              "chainId": w3.eth.chain_id, "gas": tx.get("gas", 21_000),
              "maxFeePerGas": 10 * w3.eth.gas_price, "maxPriorityFeePerGas": w3.eth.gas_price}
        tx.pop("gasPrice", None)
        signed = account.sign_transaction(tx)
        assert w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))["status"] == 1


def listing_row(listing_id: int) -> Listing:
    with Session(db.get_engine()) as session:
        return session.get(Listing, listing_id)


def wait_row(model, row_id: int, status: str, timeout: float = 30.0):
    """The row once its status is `status` (read afresh every 50 ms); an AssertionError naming where it stayed."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(db.get_engine()) as session:
            row = session.get(model, row_id)
        if row.status == status:
            return row
        if time.monotonic() > deadline:
            detail = f" ({row.last_error})" if getattr(row, "last_error", None) else ""
            raise AssertionError(f"{model.__tablename__} {row_id} stayed {row.status!r}{detail}")
        time.sleep(0.05)


def wait_listing(listing_id: int, status: str, timeout: float = 30.0) -> Listing:
    return wait_row(Listing, listing_id, status, timeout)


def entries(purchase_id: int) -> dict[tuple[str, int | None], int]:
    with Session(db.get_engine()) as session:
        return {(e.entry_type, e.account_id): e.amount_cents for e in session.exec(
            select(LedgerEntry).where(LedgerEntry.purchase_id == purchase_id)).all()}


def purchase_row(purchase_id: int) -> Purchase:
    with Session(db.get_engine()) as session:
        return session.get(Purchase, purchase_id)
