"""A co-created work's EIP-2981 royalty receiver is the split of its creators' wallets by share: the mint worker
creates the split with the mint, and ETH paid to it reaches every creator's wallet by share on anvil. The works are
co-created through the collaborators API (50/30/20, everyone accepted)."""

from __future__ import annotations

import pytest

from marketplace.integrations.chain.client import split_recipients
from tests.catalog.crews import Team

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

SHARES = (5000, 3000, 2000)
KEEPER_KEY = "0x" + "6b" * 32  # a keeper's wallet, funded by the test


def _mint(api, creator, **fields) -> dict:
    work = api.upload(creator, **fields).json()
    r = api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])
    assert r.status_code == 202, r.text
    return api.wait_for_status(work["id"], "minted")


@pytest.mark.parametrize("split_there_already", [False, True], ids=["split-created-with-mint", "split-existed"])
def test_royalties_paid_to_a_co_created_token_reach_every_creator_by_share(api, chain, split_there_already):
    team = Team(api, royalty_bps=1000)
    creators = [team.uploader, team.composer, team.modeller]
    pairs = [(creator["wallet_address"], share) for creator, share in zip(creators, SHARES, strict=True)]
    split = chain.split_address(pairs)
    keeper = chain.signer_for(KEEPER_KEY)  # anyone may create, distribute and withdraw (not the app's minter key)
    payer = chain.w3.eth.accounts[6]  # an unlocked anvil account
    funded = chain.w3.eth.send_transaction({"from": payer, "to": keeper.address, "value": 10**18})
    chain.w3.eth.wait_for_transaction_receipt(funded)
    if split_there_already:  # an earlier attempt created it: the worker's createSplit is a no-op
        chain.create_split(pairs, signer=keeper)

    team.accepted()
    minted = team.mint()

    assert minted["royalty_receiver"] == split
    assert api.client.get(f"/api/works/{minted['id']}").json()["royalty_receiver"] == split
    accounts, shares = split_recipients(pairs)
    assert chain.splits.functions.predictSplitAddress(accounts, shares).call() == split
    assert chain.split_exists(split)
    assert chain.royalty_info(minted["token_id"], 10**18) == (split, 10**17)

    # a marketplace pays the royalty of a 10 ETH sale (and 7 wei) with a plain transfer
    royalty = 10**18 + 7  # by share: 3.5, 2.1 and 1.4 wei above the ether: 1 wei of dust, to the lowest address
    tx = chain.w3.eth.send_transaction({"from": payer, "to": split, "value": royalty, "gas": 21_000 + 2_300})
    assert chain.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

    assert chain.distribute_eth(pairs, signer=keeper) == royalty
    before = {address: chain.eth_balance(address) for address, _ in pairs}
    for address, _ in pairs:
        chain.withdraw(address, signer=keeper)  # the keeper pays the gas: each wallet only receives
    risen = {address: chain.eth_balance(address) - before[address] for address, _ in pairs}

    floors = {address: royalty * share // 10_000 for address, share in pairs}
    assert risen == {address: floors[address] + (1 if address == accounts[0] else 0) for address, _ in pairs}
    assert sum(risen.values()) == royalty
    assert risen[team.uploader["wallet_address"]] >= royalty // 2
    assert chain.eth_balance(split) == chain.eth_balance(chain.splits_address) == 0


def test_a_single_creator_work_pays_its_creator_and_creates_no_split(api, chain):
    creator = api.register(role="creator")
    nonce = chain.w3.eth.get_transaction_count(chain.signer.address)
    minted = _mint(api, creator, royalty_bps=500)
    assert minted["royalty_receiver"] == creator["wallet_address"]
    assert chain.royalty_info(minted["token_id"], 10_000) == (creator["wallet_address"], 500)
    assert chain.w3.eth.get_transaction_count(chain.signer.address) == nonce + 1, "the mint, no createSplit"


def test_without_a_royalty_there_is_no_receiver_and_no_split(api, chain):
    team = Team(api, royalty_bps=0)
    assert team.work["royalty_receiver"] is None
    team.accepted()
    nonce = chain.w3.eth.get_transaction_count(chain.signer.address)
    minted = team.mint()
    assert minted["royalty_receiver"] is None
    assert chain.royalty_info(minted["token_id"], 10_000)[1] == 0
    assert chain.w3.eth.get_transaction_count(chain.signer.address) == nonce + 1, "the mint, no createSplit"
