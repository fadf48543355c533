"""The chain client's own decoder of scalar events (what the indexer reads) gives exactly web3's args, for every
event of our contracts' ABIs it takes, on random values; events it does not take are left to web3."""

from __future__ import annotations

import os

import pytest
from eth_abi import encode
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from marketplace.integrations.chain.client import _events_by_topic, _formatted_log, load_artifact

ADDRESS = {"CreativeWorks": Web3.to_checksum_address("0x" + "11" * 20),
           "Splits": Web3.to_checksum_address("0x" + "22" * 20)}


def _contracts() -> tuple:
    w3 = Web3()
    return tuple(w3.eth.contract(address=ADDRESS[name], abi=load_artifact(name)["abi"]) for name in ADDRESS)


EVENTS = _events_by_topic(_contracts())


def _value(kind: str, draw) -> object:
    if kind == "address":
        return "0x" + bytes(draw(st.binary(min_size=20, max_size=20))).hex()
    if kind == "bool":
        return draw(st.booleans())
    if kind.startswith("bytes"):
        size = int(kind[5:])
        return draw(st.binary(min_size=size, max_size=size))
    bits = int(kind.lstrip("uint") or 256)
    if kind.startswith("u"):
        return draw(st.integers(0, 2**bits - 1))
    return draw(st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))


def _raw_log(address: str, topic: str, entry: dict, values: dict) -> dict:
    """The log as eth_getLogs answers it (hex strings)."""
    indexed = [i for i in entry["inputs"] if i.get("indexed")]
    plain = [i for i in entry["inputs"] if not i.get("indexed")]
    topics = [topic] + ["0x" + encode([i["type"]], [values[i["name"]]]).hex() for i in indexed]
    data = "0x" + encode([i["type"] for i in plain], [values[i["name"]] for i in plain]).hex()
    return {"address": address.lower(), "topics": topics, "data": data, "blockNumber": "0x7",
            "blockHash": "0x" + os.urandom(32).hex(), "logIndex": "0x3", "transactionHash": "0x" + os.urandom(32).hex(),
            "transactionIndex": "0x0", "removed": False}


def test_every_scalar_event_has_the_fast_decoder():
    names = {name for name, _event, fast in EVENTS.values() if fast is not None}
    assert {"Transfer", "TokenRoyaltySet", "MetadataRevised", "Distributed", "Withdrawn"} <= names
    assert "SplitCreated" not in names  # arrays: web3 decodes it


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_fast_decoder_gives_web3s_args(data):
    (address, topic), (_name, event, fast) = data.draw(st.sampled_from(
        [item for item in EVENTS.items() if item[1][2] is not None]))
    entry = event.abi
    values = {i["name"]: _value(i["type"], data.draw) for i in entry["inputs"]}
    log = _raw_log(address, topic, entry, values)
    expected = dict(event.process_log(_formatted_log(log))["args"])
    got = fast(log)
    assert got == expected and list(got) == list(expected)
    assert all(type(got[k]) is type(expected[k]) or isinstance(got[k], bytes) for k in got)


def test_a_word_that_is_not_its_type_is_refused_as_web3_refuses_it():
    (address, topic), (_name, event, fast) = next(item for item in EVENTS.items() if item[1][0] == "Transfer")
    values = {"from": "0x" + "00" * 20, "to": "0x" + "ab" * 20, "tokenId": 7}
    log = _raw_log(address, topic, event.abi, values)
    assert fast(log)["to"] == Web3.to_checksum_address("0x" + "ab" * 20)
    log["topics"][2] = "0x" + "ff" * 12 + "ab" * 20  # an address word with dirty high bytes
    with pytest.raises(ValueError):
        fast(log)
    with pytest.raises(Exception):  # noqa: B017 (web3 raises its own decoding error)
        event.process_log(_formatted_log(log))
