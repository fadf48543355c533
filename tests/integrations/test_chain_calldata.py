"""Calldata the chain client encodes itself is the same as web3's contract encoder gives (no node needed)."""

from __future__ import annotations

import os

import pytest
from web3 import Web3

from marketplace.integrations.chain.client import (
    ZERO_ADDRESS,
    MintRequest,
    load_artifact,
    mint_batch_calldata,
    mint_calldata,
    transfer_batch_calldata,
)


def _contract():
    return Web3().eth.contract(address="0x" + "12" * 20, abi=load_artifact("CreativeWorks")["abi"])


def _request(bps: int) -> MintRequest:
    to = Web3.to_checksum_address("0x" + os.urandom(20).hex())
    return MintRequest(to=to, metadata_digest=os.urandom(32), royalty_receiver=to, royalty_bps=bps)


@pytest.mark.parametrize("size", [0, 1, 3, 50])
def test_mint_batch_calldata_equals_the_contract_abi_encoding(size):
    requests = [_request(bps) for bps in ([0, 1, 500, 10_000, 2**96 - 1] * 10)[:size]]
    expected = _contract().encode_abi("mintBatch", args=[[r.as_abi() for r in requests]])
    assert "0x" + mint_batch_calldata([r.as_abi() for r in requests]).hex() == expected
    assert requests == [] or requests[0].as_abi()[2] == ZERO_ADDRESS  # bps 0: no royalty receiver


def test_mint_calldata_equals_the_contract_abi_encoding():
    request = _request(750)
    assert "0x" + mint_calldata(request.as_abi()).hex() == _contract().encode_abi("mint", args=list(request.as_abi()))


@pytest.mark.parametrize("bad", [
    ("0x" + "11" * 19, os.urandom(32), ZERO_ADDRESS, 0),  # short address
    ("11" * 21, os.urandom(32), ZERO_ADDRESS, 0),  # no 0x
    ("0x" + "zz" * 20, os.urandom(32), ZERO_ADDRESS, 0),  # not hex
    ("0x" + "11" * 20, os.urandom(31), ZERO_ADDRESS, 0),  # short digest
    ("0x" + "11" * 20, os.urandom(32), ZERO_ADDRESS, 2**96),  # bps beyond uint96
    ("0x" + "11" * 20, os.urandom(32), ZERO_ADDRESS, -1),
])
def test_mint_batch_calldata_refuses_what_the_abi_cannot_hold(bad):
    with pytest.raises(ValueError):
        mint_batch_calldata([bad])


@pytest.mark.parametrize("size", [1, 2, 50])
def test_transfer_batch_calldata_equals_the_contract_abi_encoding(size):
    def address() -> str:
        return Web3.to_checksum_address("0x" + os.urandom(20).hex())

    moves = [(address(), address(), int.from_bytes(os.urandom(32), "big")) for _ in range(size)]
    expected = _contract().encode_abi("transferBatch", args=[[f for f, _, _ in moves], [t for _, t, _ in moves],
                                                             [token for _, _, token in moves]])
    assert "0x" + transfer_batch_calldata(moves).hex() == expected


@pytest.mark.parametrize("bad", [("0x" + "11" * 20, "0x" + "22" * 19, 1), ("0x" + "11" * 20, "0x" + "22" * 20, -1),
                                 ("0x" + "11" * 20, "0x" + "22" * 20, 2**256)])
def test_transfer_batch_calldata_refuses_what_the_abi_cannot_hold(bad):
    with pytest.raises(ValueError):
        transfer_batch_calldata([bad, bad])
