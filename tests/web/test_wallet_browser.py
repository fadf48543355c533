"""Own wallets in Chromium: the collector presses "Connect a wallet" on the account page; the page's real code asks
the browser's EIP-1193 provider for an account and a `personal_sign` of the site's EIP-4361 message. The provider
here is a test one injected through Playwright, which signs with a known key in Python. Then the collector buys a
work into the linked wallet and withdraws a token from custody to it, from the collection page."""

from __future__ import annotations

import re

import pytest
from eth_account.messages import encode_defunct
from playwright.sync_api import expect

from tests.faults.invariants import wait_indexed_owner
from tests.resale.helpers import owner_on_chain
from tests.resale.wallet_helpers import WALLET, wallets
from tests.web.market import build_market, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

# an EIP-1193 provider: request({method, params}) answers eth_requestAccounts with the test wallet (lower case,
# as wallets do) and personal_sign through the Python function the test exposes
PROVIDER = """
window.ethereum = {
  isTestWallet: true,
  async request({ method, params }) {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return [ADDRESS];
    if (method === "personal_sign") return await window.__testWalletSign(params[0], params[1]);
    throw Object.assign(new Error("unsupported method " + method), { code: 4200 });
  },
};
"""


def with_wallet(page, signed: list[str]) -> None:
    def sign(message_hex: str, address: str) -> str:
        assert address.lower() == WALLET.address.lower()
        text = bytes.fromhex(message_hex.removeprefix("0x")).decode("utf-8")
        signed.append(text)
        return WALLET.sign_message(encode_defunct(text=text)).signature.to_0x_hex()

    page.expose_function("__testWalletSign", sign)
    page.add_init_script(PROVIDER.replace("ADDRESS", repr(WALLET.address.lower())))


def test_link_a_wallet_buy_into_it_and_withdraw_a_custodial_token(make_live, browsing, anvil, contract_address):
    market = build_market(make_live(), works=[{"title": "Grund at Night", "price_cents": 2000},
                                              {"title": "Pfaffenthal Morning", "price_cents": 1500}])
    base, held, other = market.url, market.sold, market.works[1]
    assert owner_on_chain(anvil, contract_address, held["token_id"]) == market.buyer["custodial_address"]

    # no wallet in this browser: a clear message, nothing linked
    bare = signed_in(browsing, market.buyer, base)
    bare.goto(f"{base}/account")
    bare.get_by_role("button", name="Connect a wallet").click()
    expect(bare.locator("#connect-wallet .connect-status")).to_contain_text("No wallet found in this browser")
    browsing.shot(bare, "wallet-01-no-provider")
    assert wallets(market.shop, market.buyer) == []

    page = signed_in(browsing, market.buyer, base)
    signed: list[str] = []
    with_wallet(page, signed)
    page.goto(f"{base}/account")
    page.get_by_role("button", name="Connect a wallet").click()
    page.wait_for_url(f"{base}/account?m=wallet_linked#wallets")
    expect(page.get_by_text("Your wallet is linked.")).to_be_visible()
    expect(page.locator("#linked-wallets")).to_contain_text(WALLET.address)
    browsing.shot(page, "wallet-02-linked")
    assert wallets(market.shop, market.buyer) == [WALLET.address]
    assert len(signed) == 1 and signed[0].startswith(f"{base.removeprefix('http://')} wants you to sign in")
    assert f"\n{WALLET.address}\n" in signed[0]  # the site wrote the EIP-55 address

    # buy the second work into the linked wallet (the first choice of the buy form)
    page.goto(f"{base}/works/{other['id']}")
    expect(page.get_by_label("Deliver the token to")).to_have_value(WALLET.address)
    page.get_by_label("I have read the licence").check()
    page.locator("#accept-immediate-supply").check()
    browsing.shot(page, "wallet-03-buy-into-wallet")
    page.get_by_role("button", name="Buy for €15.00").click()
    page.wait_for_url(f"{market.shop.live.double.public_url}/pay/**")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/purchases/\d+\?session_id=cs_"))
    page.get_by_text("Delivered: the token is in your wallet.").wait_for(timeout=45_000)
    assert owner_on_chain(anvil, contract_address, other["token_id"]) == WALLET.address

    # withdraw the custodial token from the collection
    wait_indexed_owner(other["token_id"], WALLET.address)
    page.goto(f"{base}/collection")
    form = page.locator(f"#withdraw-{held['token_id']}")
    browsing.shot(page, "wallet-04-collection-before")
    form.get_by_role("button", name="Withdraw to my wallet").click()
    page.wait_for_url(f"{base}/collection")
    wait_indexed_owner(held["token_id"], WALLET.address)
    page.reload()
    expect(page.locator("#owned .place-wallet")).to_have_count(2)
    expect(page.locator("#owned")).to_contain_text("in your wallet")
    expect(page.locator(f"#withdraw-{held['token_id']}")).to_have_count(0)
    browsing.shot(page, "wallet-05-collection-in-your-wallet")
    assert owner_on_chain(anvil, contract_address, held["token_id"]) == WALLET.address
