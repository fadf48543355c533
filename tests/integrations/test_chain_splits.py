"""The royalty splits through the chain client: the off-chain split address equals the contract's, creation is
idempotent, and ETH paid to a split reaches its recipients by share (the dust to the first, the lowest address)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from devtools.anvil import DEV_KEYS
from marketplace.core.exceptions import ChainTransactionFailed, ChainUnavailable
from marketplace.integrations.chain.client import ChainClient, predict_split_address, split_hash, split_recipients

A, B, C = (Web3.to_checksum_address("0x" + digit * 40) for digit in "abc")


def test_split_recipients_sorts_by_address_and_merges_a_repeated_one():
    assert split_recipients([(C, 2000), (A.lower(), 5000), (B, 1000), (C, 2000)]) == ([A, B, C], [5000, 1000, 4000])


@pytest.mark.parametrize("pairs, message", [
    ([(A, 5000), (B, 4999)], "sum to 10000, not 9999"),
    ([(A, 10_000)], "2 to 100 recipients, not 1"),
    ([(A, 6000), (A, 4000)], "2 to 100 recipients, not 1"),
    ([(A, 10_000), (B, 0)], "positive number of basis points"),
    ([("0x" + "00" * 20, 5000), (B, 5000)], "zero address"),
    ([(Web3.to_checksum_address(f"0x{i + 1:040x}"), 1) for i in range(101)], "not 101"),
])
def test_split_recipients_refuses_what_is_not_a_split(pairs, message):
    with pytest.raises(ValueError, match=message):
        split_recipients(pairs)


def test_split_hash_is_keccak_of_the_packed_words():
    packed = bytes(12) + bytes.fromhex(A[2:]) + bytes(12) + bytes.fromhex(B[2:]) + (7000).to_bytes(32, "big") + (
        3000).to_bytes(32, "big")
    assert split_hash([A, B], [7000, 3000]) == bytes(Web3.keccak(packed))


def test_split_address_needs_the_splits_contract(anvil, contract_address):
    bare = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0])
    with pytest.raises(ChainUnavailable, match="SPLITS_ADDRESS"):
        bare.split_address([(A, 5000), (B, 5000)])


_addresses = st.binary(min_size=20, max_size=20).filter(any).map(lambda raw: Web3.to_checksum_address(raw))


@st.composite
def _splits(draw):
    accounts = draw(st.lists(_addresses, min_size=2, max_size=12, unique_by=str.lower))
    cuts = sorted(draw(st.lists(st.integers(1, 9_999), min_size=len(accounts) - 1, max_size=len(accounts) - 1,
                                unique=True)))
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, 10_000], strict=True)]
    return list(zip(accounts, shares, strict=True))


@pytest.mark.chain
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=_splits())
def test_off_chain_split_address_equals_the_contract_view(chain, pairs):
    accounts, shares = split_recipients(pairs)
    on_chain = chain.splits.functions.predictSplitAddress(accounts, shares).call()
    assert chain.split_address(pairs) == on_chain == predict_split_address(chain.splits_address, pairs)


@pytest.mark.chain
def test_create_split_is_idempotent(chain):
    pairs = [(A, 5000), (B, 3000), (C, 2000)]
    split = chain.split_address(pairs)
    assert not chain.split_exists(split)
    assert chain.create_split(pairs) == split
    assert chain.split_exists(split)
    nonce = chain.w3.eth.get_transaction_count(chain.signer.address)
    assert chain.create_split(list(reversed(pairs))) == split  # the same split, in any order
    assert chain.w3.eth.get_transaction_count(chain.signer.address) == nonce, "no second transaction"


@pytest.mark.chain
def test_royalty_paid_to_a_split_reaches_every_recipient_by_share(chain, anvil):
    recipients = [Web3.to_checksum_address("0x" + digit * 40) for digit in "123"]
    pairs = list(zip(recipients, [3333, 3333, 3334], strict=True))
    split = chain.create_split(pairs)
    payer = chain.w3.eth.accounts[5]
    amount = 10**18 + 2  # 1 ether and 2 wei: the shares leave 2 wei of dust (0.6666 + 0.6666 + 0.6668)
    tx = chain.w3.eth.send_transaction({"from": payer, "to": split, "value": amount, "gas": 2300 + 21_000})
    assert chain.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1  # a payer's 2,300-gas `transfer` is enough

    assert chain.distribute_eth(pairs) == amount
    first, *others = split_recipients(pairs)[0]
    floors = {address: amount * share // 10_000 for address, share in pairs}
    assert [chain.withdrawable(a) for a in others] == [floors[a] for a in others]
    assert chain.withdrawable(first) == floors[first] + (amount - sum(floors.values())) == floors[first] + 2

    for address, _ in pairs:
        owed = chain.withdrawable(address)
        assert chain.withdraw(address) == owed
        assert chain.eth_balance(address) == owed
        assert chain.withdrawable(address) == 0
    assert chain.eth_balance(chain.splits_address) == 0
    assert chain.distribute_eth(pairs) == 0  # an empty wallet: nothing to credit


@pytest.mark.chain
def test_distributing_a_split_never_created_changes_nothing(chain):
    pairs = [(A, 5000), (B, 5000)]
    nonce = chain.w3.eth.get_transaction_count(chain.signer.address)
    with pytest.raises(ChainTransactionFailed):
        chain.distribute_eth(pairs)
    with pytest.raises(ChainTransactionFailed):
        chain.withdraw(A)  # owed nothing
    assert chain.w3.eth.get_transaction_count(chain.signer.address) == nonce, "refused before signing"
