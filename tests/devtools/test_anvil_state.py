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
