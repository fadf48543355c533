"""A token's history and an account's activity after a real sale (Stripe double, anvil, the app's own indexer):
the kinds and prices the API gives, the timeline on the work and certificate pages, a transfer made outside the
marketplace told as `transferred`."""

from __future__ import annotations

import pytest

from devtools.anvil import DEV_KEYS
from marketplace.accounts.wallets import custodial_signer
from marketplace.integrations.chain.client import ZERO_ADDRESS, ChainClient
from tests.faults.invariants import wait_indexed_owner
from tests.web.market import build_market

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]
ELSEWHERE = "0x" + "77" * 20


def test_a_sale_and_an_outside_transfer_in_the_history(make_live, anvil, contract_address):
    market = build_market(make_live(), works=[{"title": "Kirchberg at Dusk", "price_cents": 4200}])
    shop, sold, creator, buyer = market.shop, market.sold, market.creator, market.buyer
    token_id = sold["token_id"]

    history = shop.client.get(f"/api/tokens/{token_id}/history")
    assert history.status_code == 200, history.text
    entries = history.json()
    assert [(e["kind"], e["from_address"], e["to_address"], e["price_cents"], e["currency"]) for e in entries] == [
        ("minted", ZERO_ADDRESS, creator["wallet_address"], None, None),
        ("sold", creator["wallet_address"], buyer["wallet_address"], 4200, "EUR"),
    ]
    assert entries[0]["tx_hash"] == sold["mint_tx_hash"]
    assert entries[0]["block_number"] < entries[1]["block_number"] and entries[1]["timestamp"]

    # the buyer's activity: the token arrived; the creator's: minted to them, then sold away
    mine = shop.client.get("/api/me/activity", headers=buyer["headers"]).json()
    assert mine["count"] == 1
    assert [(a["kind"], a["direction"], a["token_id"], a["work_id"]) for a in mine["data"]] == [
        ("sold", "in", str(token_id), sold["id"])]
    theirs = shop.client.get("/api/me/activity", headers=creator["headers"]).json()
    assert [(a["kind"], a["direction"]) for a in theirs["data"]] == [("sold", "out"), ("minted", "in")]
    assert shop.client.get("/api/me/activity?page=2&page_size=1", headers=creator["headers"]).json()["data"][0][
        "kind"] == "minted"

    # the pages show the timeline, with the owner from the index
    work_page = shop.client.get(f"/works/{sold['id']}").text
    assert 'id="token-history"' in work_page and "timeline-sold" in work_page and "42.00" in work_page
    assert entries[1]["tx_hash"] in work_page and buyer["wallet_address"] in work_page
    certificate = shop.client.get(f"/tokens/{token_id}").text
    assert 'id="cert-history"' in certificate and "timeline-minted" in certificate
    assert shop.page(buyer, "/account").text.count("timeline-entry") == 1

    # the buyer moves the token from their custody wallet outside the marketplace: `transferred`
    chain = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0])
    holder = chain.signer_for(custodial_signer(shop.live.settings.wallet_secret.get_secret_value(), buyer["id"]).key)
    gas = chain.prepare_value_transfer(to=holder.address, value_wei=10**17)
    chain.send(gas)
    assert chain.wait_for_receipt(gas.tx_hash).status == 1
    tx = chain.prepare_transfer(holder, to=ELSEWHERE, token_id=token_id)
    chain.send(tx, signer=holder)
    assert chain.wait_for_receipt(tx.tx_hash).status == 1
    wait_indexed_owner(token_id, chain.w3.to_checksum_address(ELSEWHERE))
    last = shop.client.get(f"/api/tokens/{token_id}/history").json()[-1]
    assert (last["kind"], last["tx_hash"], last["price_cents"]) == ("transferred", tx.tx_hash, None)
    assert "You own this." not in shop.page(buyer, f"/works/{sold['id']}").text  # the index says who holds it


def test_unknown_and_malformed_tokens(make_live):
    shop = build_market(make_live(), buy=False).shop
    assert shop.client.get("/api/tokens/12345/history").status_code == 404
    assert shop.client.get(f"/api/tokens/{2**256}/history").status_code == 404
    assert shop.client.get("/api/tokens/0xabc/history").status_code == 422
    assert shop.client.get("/api/me/activity").status_code == 401


def test_withdrawals_in_a_history_are_told_from_one_query_of_linked_wallets(make_client):
    """Many withdrawals from many custody wallets: each told `withdrawn` (to a wallet its sender linked) or
    `transferred` (anywhere else), with the linked wallets read once for all the events, not once per event."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from sqlalchemy import event
    from sqlmodel import Session

    from marketplace.accounts.models import Account, LinkedWallet
    from marketplace.core import db
    from marketplace.provenance import service as provenance_service

    make_client()
    engine = db.get_engine()
    events = []
    with Session(engine) as session:
        for n in range(6):
            account = Account(email=f"holder{n}@example.lu", display_name=f"H{n}", password_hash="!x",
                              role="buyer", custodial_address="0x" + f"{n + 1:02x}" * 20)
            session.add(account)
            session.flush()
            own = "0x" + f"{n + 0xa0:02x}" * 20
            session.add(LinkedWallet(account_id=account.id, address=own, via="test"))
            events.append(SimpleNamespace(token_id=str(n), from_address=account.custodial_address,
                                          to_address=own if n % 2 == 0 else ELSEWHERE, tx_hash=f"0x{n:064x}",
                                          block_number=n + 1, timestamp=datetime.now(UTC)))
        session.commit()
        statements: list[str] = []

        def seen(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            entries = provenance_service._entries(session, events)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    assert [e.kind for e in entries] == ["withdrawn", "transferred"] * 3
    assert len([s for s in statements if "linked_wallet" in s]) == 1, statements
