"""Own wallets end to end (anvil, IPFS, the Stripe double): a collector links a wallet by signing an EIP-4361
message, buys a work into it, and withdraws a token from custody to it, exactly once. A replayed, expired,
foreign-domain or altered message is 400 and links nothing; contract wallets answer through EIP-1271."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from web3 import Web3

from marketplace.payments.models import TokenWithdrawal
from tests.payments.conftest import Shop, rows
from tests.payments.test_checkout import transfers
from tests.resale.helpers import list_token, owner_on_chain
from tests.resale.wallet_helpers import (
    OTHER_WALLET,
    WALLET,
    link,
    message,
    nonce,
    sign,
    stamp,
    wait_withdrawal,
    wallets,
)

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

# runtime code of a minimal EIP-1271 wallet: whatever it is asked, it answers isValidSignature's magic value
# (PUSH4 0x1626ba7e, PUSH1 0xe0, SHL, PUSH1 0, MSTORE, PUSH1 0x20, PUSH1 0, RETURN) ...
YES_WALLET = "0x631626ba7e60e01b60005260206000f3"
# ... and one that answers 0xffffffff (a signature it does not recognise)
NO_WALLET = "0x63ffffffff60e01b60005260206000f3"
# ... and one whose code echoes its calldata (CALLDATASIZE, PUSH1 0, PUSH1 0, CALLDATACOPY, CALLDATASIZE, PUSH1 0,
# RETURN): its answer starts with the selector 0x1626ba7e but is not the ABI-encoded bytes4
ECHO_WALLET = "0x366000600037366000f3"


def test_a_signed_message_links_the_wallet_and_nothing_else_does(shop: Shop, anvil):
    me = shop.register(role="buyer", name="Marie Collector")
    given = nonce(shop, me)
    assert len(given["nonce"]) >= 16 and given["nonce"].isalnum()
    assert given["domain"] == shop.live.url.removeprefix("http://") and given["chain_id"] == 31337
    assert nonce(shop, me)["nonce"] != given["nonce"]

    text = message(shop, me, WALLET.address)
    signature = sign(text)
    r = shop.client.post("/api/me/wallets", json={"message": text, "signature": signature}, headers=me["headers"])
    assert r.status_code == 201, r.text
    assert r.json()["address"] == WALLET.address and r.json()["via"] == "siwe"
    assert wallets(shop, me) == [WALLET.address]
    assert shop.client.get("/api/me", headers=me["headers"]).json()["linked_address"] == WALLET.address

    # replayed: the nonce is spent
    replay = shop.client.post("/api/me/wallets", json={"message": text, "signature": signature},
                              headers=me["headers"])
    assert replay.status_code == 400 and "nonce" in replay.json()["detail"]

    def refused(**fields) -> str:
        r = link(shop, me, OTHER_WALLET, **fields)
        assert r.status_code == 400, r.text
        assert wallets(shop, me) == [WALLET.address]  # linked nothing
        return r.json()["detail"]

    past = datetime.now(UTC) - timedelta(minutes=1)
    assert "expired" in refused(expiration_time=stamp(past))
    assert "not valid yet" in refused(not_before=stamp(datetime.now(UTC) + timedelta(hours=1)))
    assert "domain" in refused(domain="evil.example")
    assert "URI" in refused(uri="https://evil.example/account")
    assert "chain" in refused(chain_id=1)
    assert "nonce" in refused(nonce="abcdefgh12345678")  # never handed out
    # another account's nonce
    other = shop.register(role="buyer")
    theirs = nonce(shop, other)["nonce"]
    assert "nonce" in refused(nonce=theirs)
    # altered after signing: the signature is some other address's
    text = message(shop, me, OTHER_WALLET.address)
    altered = text.replace("Link this wallet", "Link this purse")
    r = shop.client.post("/api/me/wallets", json={"message": altered, "signature": sign(text, OTHER_WALLET)},
                         headers=me["headers"])
    assert r.status_code == 400 and "signature" in r.json()["detail"]
    # signed by another key than the message's address
    r = shop.client.post("/api/me/wallets", json={"message": text, "signature": sign(text, WALLET)},
                         headers=me["headers"])
    assert r.status_code == 400 and "signature" in r.json()["detail"]
    # not EIP-4361 at all
    r = shop.client.post("/api/me/wallets", json={"message": "hello", "signature": "0x00"}, headers=me["headers"])
    assert r.status_code == 400 and "EIP-4361" in r.json()["detail"]
    assert wallets(shop, me) == [WALLET.address]

    # the same wallet for another account: 409; linking it again to its own account: 200, still one
    r = link(shop, other, WALLET)
    assert r.status_code == 409, r.text
    assert wallets(shop, other) == []
    assert link(shop, me, WALLET).status_code == 200
    assert wallets(shop, me) == [WALLET.address]

    # a second wallet; unlinking the first makes the second the account's linked_address
    assert link(shop, me, OTHER_WALLET).status_code == 201
    assert wallets(shop, me) == [WALLET.address, OTHER_WALLET.address]
    assert shop.client.delete(f"/api/me/wallets/{WALLET.address.lower()}", headers=me["headers"]).status_code == 204
    assert wallets(shop, me) == [OTHER_WALLET.address]
    assert shop.client.get("/api/me", headers=me["headers"]).json()["linked_address"] == OTHER_WALLET.address
    assert shop.client.delete(f"/api/me/wallets/{WALLET.address}", headers=me["headers"]).status_code == 404
    assert shop.client.delete(f"/api/me/wallets/{OTHER_WALLET.address}",
                              headers=other["headers"]).status_code == 404
    assert shop.client.get("/api/me/wallets").status_code == 401


def test_a_contract_wallet_links_through_eip_1271(shop: Shop, anvil):
    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
    yes = Web3.to_checksum_address("0x" + "12" * 20)
    no = Web3.to_checksum_address("0x" + "34" * 20)
    echo = Web3.to_checksum_address("0x" + "56" * 20)
    w3.provider.make_request("anvil_setCode", [yes, YES_WALLET])
    w3.provider.make_request("anvil_setCode", [no, NO_WALLET])
    w3.provider.make_request("anvil_setCode", [echo, ECHO_WALLET])
    me = shop.register(role="buyer")
    for address, expected in ((no, 400), (echo, 400), (yes, 201)):
        text = message(shop, me, address)
        r = shop.client.post("/api/me/wallets", json={"message": text, "signature": "0x" + "ab" * 65},
                             headers=me["headers"])
        assert r.status_code == expected, r.text
    assert wallets(shop, me) == [yes]


def test_buy_into_a_linked_wallet_and_withdraw_a_custodial_token(shop: Shop, anvil, contract_address):
    creator = shop.register(name="Anna")
    me = shop.register(role="buyer", name="Marie Collector")
    assert link(shop, me, WALLET).status_code == 201

    # checkout: only the buyer's custody wallet or a linked one
    first = shop.minted_work(creator, price_cents=1500)
    r = shop.checkout(me, first["id"], wallet_address=OTHER_WALLET.address)
    assert r.status_code == 422 and "linked" in r.text
    r = shop.checkout(me, first["id"], wallet_address=WALLET.address.lower())
    assert r.status_code == 201, r.text
    assert shop.hosted_pay(r.json()["checkout_url"], "4242424242424242").status_code == 303
    done = shop.wait_purchase(me, r.json()["purchase_id"], "delivered")
    assert done["wallet_address"] == WALLET.address
    assert owner_on_chain(anvil, contract_address, first["token_id"]) == WALLET.address

    # a token in custody, withdrawn to the linked wallet
    second = shop.minted_work(creator, price_cents=1800, title="Second light")
    r = shop.checkout(me, second["id"])  # left out: custody
    assert r.status_code == 201, r.text
    assert shop.hosted_pay(r.json()["checkout_url"], "4242424242424242").status_code == 303
    shop.wait_purchase(me, r.json()["purchase_id"], "delivered")
    token = second["token_id"]
    assert owner_on_chain(anvil, contract_address, token) == me["custodial_address"]
    url = f"/api/tokens/{token}/withdraw"
    assert shop.client.post(url, json={"to_address": WALLET.address}).status_code == 401
    r = shop.client.post(url, json={"to_address": OTHER_WALLET.address}, headers=me["headers"])
    assert r.status_code == 422, r.text  # not linked
    stranger = shop.register(role="buyer")
    assert link(shop, stranger, OTHER_WALLET).status_code == 201
    assert shop.client.post(url, json={"to_address": OTHER_WALLET.address},
                            headers=stranger["headers"]).status_code == 403
    assert shop.client.post("/api/tokens/424242/withdraw", json={"to_address": WALLET.address},
                            headers=me["headers"]).status_code == 404
    listing = list_token(shop, me, token, 5000).json()
    r = shop.client.post(url, json={"to_address": WALLET.address}, headers=me["headers"])
    assert r.status_code == 409 and "listed" in r.json()["detail"]
    assert shop.client.delete(f"/api/listings/{listing['id']}", headers=me["headers"]).status_code == 200

    # two at once: one is accepted; the other finds it pending (409) or the token gone from custody (403)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: shop.client.post(url, json={"to_address": WALLET.address},
                                                           headers=me["headers"]), range(2)))
    codes = sorted(a.status_code for a in answers)
    assert codes[0] == 202 and codes[1] in (403, 409), [a.text for a in answers]
    accepted = next(a.json() for a in answers if a.status_code == 202)
    assert (accepted["status"], accepted["to_address"], accepted["token_id"]) == ("pending", WALLET.address, str(token))
    row = wait_withdrawal(accepted["id"], "done")
    assert owner_on_chain(anvil, contract_address, token) == WALLET.address
    moves = [t for t in transfers(anvil, contract_address, int(token)) if t["args"]["to"] == WALLET.address]
    assert len(moves) == 1 and moves[0]["transactionHash"].to_0x_hex() == row.tx_hash
    assert moves[0]["args"]["from"] == me["custodial_address"]
    assert len([w for w in rows(TokenWithdrawal) if w.token_id == str(token)]) == 1
    # once in the wallet: no second withdrawal, no listing (the platform holds no key)
    assert shop.client.post(url, json={"to_address": WALLET.address}, headers=me["headers"]).status_code == 403
    assert list_token(shop, me, token, 5000).status_code == 409

    # the collection shows both works, in the linked wallet
    deadline = time.monotonic() + 15
    while True:
        page = shop.page(me, "/collection").text
        if page.count("in your wallet") >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert "Second light" in page and page.count("in your wallet") >= 2
    history = shop.client.get(f"/api/tokens/{token}/history").json()
    assert [h["kind"] for h in history][-1] == "withdrawn" and history[-1]["to_address"] == WALLET.address


def test_a_withdrawal_sent_before_a_crash_settles_from_its_recorded_hash(make_live, anvil, contract_address):
    from marketplace.services import build_delivery_worker, build_services

    first = Shop(make_live(run_delivery_worker=False))
    creator, me = first.register(), first.register(role="buyer")
    work = first.minted_work(creator)
    r = first.checkout(me, work["id"])
    first.hosted(r.json()["checkout_url"], "pay")
    first.wait_purchase(me, r.json()["purchase_id"], "paid")
    assert link(first, me, WALLET).status_code == 201

    worker = build_delivery_worker(build_services(first.settings()))
    worker.deliver_batch()
    first.wait_purchase(me, r.json()["purchase_id"], "delivered")
    r = first.client.post(f"/api/tokens/{work['token_id']}/withdraw", json={"to_address": WALLET.address},
                          headers=me["headers"])
    assert r.status_code == 202, r.text

    class Crash(BaseException):
        pass

    def crash(*args, **kwargs):
        raise Crash

    worker._settle_withdrawal = crash  # the process dies right after the transfer is mined
    with pytest.raises(Crash):
        worker.withdraw_batch()
    row = wait_withdrawal(r.json()["id"], "pending")
    assert row.tx_hash is not None and row.attempts == 1
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == WALLET.address
    first.live.server.stop()

    second = Shop(make_live())  # a restart: its delivery worker settles it from the recorded hash
    done = wait_withdrawal(r.json()["id"], "done")
    assert done.tx_hash == row.tx_hash and done.attempts == 1
    assert len(transfers(anvil, contract_address, int(work["token_id"]))) == 3  # mint, delivery, withdrawal
    assert second.client.get("/api/me/wallets", headers=me["headers"]).status_code == 200
