"""The local chain keeps its state: dumped on a clean stop, and every STATE_INTERVAL_S so that a crash loses little."""

from __future__ import annotations

import json
import time

import pytest

from devtools.anvil import STATE_INTERVAL_S
from tests.faults.chain_node import RestartableChain

pytestmark = [pytest.mark.chain]


def _dumped_height(chain: RestartableChain) -> int | None:
    try:
        return json.loads(chain.state_file.read_text())["best_block_number"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None


def test_a_clean_stop_dumps_the_state(tmp_path):
    chain = RestartableChain(tmp_path, state_interval_s=3600).start()  # no periodic dump before the stop
    try:
        address = chain.deploy()
        for _ in range(3):
            chain.rpc("evm_mine")
        height = chain.block_number()
        genesis = chain.rpc("eth_getBlockByNumber", "0x0", False)["hash"]
        chain.stop()  # SIGTERM
        assert _dumped_height(chain) == height
        chain.start()
        assert chain.block_number() == height
        assert chain.rpc("eth_getBlockByNumber", "0x0", False)["hash"] == genesis  # the same chain, not a new one
        assert chain.rpc("eth_getCode", address, "latest") not in ("0x", None)
    finally:
        chain.kill()


def test_a_crash_loses_at_most_the_last_state_interval(tmp_path):
    assert STATE_INTERVAL_S <= 2
    chain = RestartableChain(tmp_path, state_interval_s=STATE_INTERVAL_S).start()
    try:
        assert chain.node.proc.args[-2:] == ["--state-interval", str(STATE_INTERVAL_S)]
        for _ in range(4):
            chain.rpc("evm_mine")
        height = chain.block_number()
        deadline = time.monotonic() + 30
        while _dumped_height(chain) != height:  # the periodic dump catches up without a stop
            assert time.monotonic() < deadline, "no periodic dump"
            time.sleep(0.1)
        chain.kill()  # SIGKILL: no dump on the way out
        chain.start()
        assert chain.block_number() == height
    finally:
        chain.kill()


def _genesis_copies(chain: RestartableChain) -> list[dict]:
    blocks = json.loads(chain.state_file.read_text())["blocks"]
    return [b for b in blocks if int(str(b["header"]["number"]), 0) == 0]


def test_restarts_keep_the_chains_genesis(tmp_path):
    """The defect: anvil adds a fresh genesis block at each start and dumps it beside the loaded one, in no fixed
    order; the copy loaded last became block 0, so after a restart or two the chain watcher saw "another chain" and
    refused to mint or deliver (seen in a clean CI run). Here the stale copy is put last, where anvil would take it."""
    chain = RestartableChain(tmp_path, state_interval_s=3600).start()
    try:
        genesis = chain.rpc("eth_getBlockByNumber", "0x0", False)["hash"]
        chain.rpc("evm_mine")
        chain.stop()
        time.sleep(1.1)  # the next start's own genesis gets another timestamp, hence another hash
        chain.start()
        chain.stop()
        state = json.loads(chain.state_file.read_text())
        copies = _genesis_copies(chain)
        assert len(copies) == 2  # anvil's doing: the chain's genesis and the second start's
        copies.sort(key=lambda b: int(str(b["header"]["timestamp"]), 0))
        state["blocks"] = [b for b in state["blocks"] if b not in copies] + copies  # the newer copy last
        chain.state_file.write_text(json.dumps(state))

        chain.start()
        assert chain.rpc("eth_getBlockByNumber", "0x0", False)["hash"] == genesis
        assert chain.block_number() == 1
        assert chain.rpc("eth_getBlockByNumber", "0x1", False)["parentHash"] == genesis
        chain.stop()
        assert len(_genesis_copies(chain)) == 2  # this start's own copy again, dropped before the next start
        for _ in range(2):
            time.sleep(1.1)
            chain.start()
            assert chain.rpc("eth_getBlockByNumber", "0x0", False)["hash"] == genesis
            chain.stop()
    finally:
        chain.kill()
