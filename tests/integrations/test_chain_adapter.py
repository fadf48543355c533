"""The chain adapter: its hand-encoded calls are the compiled contract's, and node refusals arrive as types."""

from __future__ import annotations

import pytest
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector

from marketplace.core.exceptions import ChainTransactionFailed
from marketplace.integrations.chain import client
from marketplace.integrations.chain import errors as chain_errors

ABI = client.load_artifact("CreativeWorks")["abi"]


def _selectors(name: str) -> set[bytes]:
    return {function_abi_to_4byte_selector(f) for f in ABI if f["type"] == "function" and f["name"] == name}


@pytest.mark.parametrize(("encoded", "function"), [
    (client._MINT, "mint"),
    (client._MINT_BATCH, "mintBatch"),
    (client._TRANSFER_BATCH, "transferBatch"),
    (client._SAFE_TRANSFER_FROM, "safeTransferFrom"),
    (client._SET_APPROVAL_FOR_ALL, "setApprovalForAll"),
])
def test_hand_encoded_selectors_are_the_compiled_abis(encoded, function):
    assert encoded in _selectors(function), f"{function}: {encoded.hex()} is not among {_selectors(function)}"


def test_the_transfer_topic_is_the_compiled_event():
    (transfer,) = [e for e in ABI if e["type"] == "event" and e["name"] == "Transfer"]
    assert client.TRANSFER_TOPIC == "0x" + event_abi_to_log_topic(transfer).hex()


@pytest.mark.parametrize(("message", "kind"), [
    ("nonce too low: next nonce 7, tx nonce 5", chain_errors.NonceTooLow),
    ("Nonce too high", chain_errors.NonceTooHigh),
    ("insufficient funds for gas * price + value: have 0 want 210000", chain_errors.InsufficientFunds),
    ("replacement transaction underpriced", chain_errors.Underpriced),
    ("max fee per gas less than block base fee: address 0x.., maxFeePerGas: 1 baseFee: 7", chain_errors.Underpriced),
    ("exceeds block gas limit", chain_errors.GasLimitTooHigh),
    ("intrinsic gas too low", chain_errors.IntrinsicGasTooLow),
    ("execution reverted: NotMinter(0x..)", chain_errors.ExecutionReverted),
    ("something new", ChainTransactionFailed),
])
def test_node_refusals_are_typed(message, kind):
    assert chain_errors.classify(message) is kind
    assert issubclass(kind, ChainTransactionFailed)  # callers that catch the general error keep working


def test_a_resent_transaction_is_not_an_error():
    assert chain_errors.is_already_known("already known")
    assert chain_errors.is_already_known("ALREADY IMPORTED")
    assert not chain_errors.is_already_known("nonce too low")
