"""A chain node of a test's own, with a state file, that the test can kill (SIGKILL, as a crash), stop cleanly and
start again on the same port from its last dump: what `marketplace dev` runs, without the session anvil the other
tests share."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from devtools.anvil import DEV_KEYS, AnvilNode
from devtools.procs import pick_free_port
from marketplace.integrations.chain import client as chain_client


class RestartableChain:
    def __init__(self, directory: Path, *, state_interval_s: int) -> None:
        self.directory = directory
        self.state_file = directory / "anvil-state.json"
        self.port = pick_free_port()
        self.state_interval_s = state_interval_s
        self.node: AnvilNode | None = None
        self.contract_address = ""

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RestartableChain:
        self.node = AnvilNode.start(port=self.port, state_file=self.state_file, log_path=self.directory / "anvil.log",
                                    state_interval_s=self.state_interval_s)
        return self

    def deploy(self) -> str:
        deployer = chain_client.EthAccount.from_key(DEV_KEYS[0]).address
        self.contract_address = chain_client.deploy(rpc_url=self.rpc_url, deployer_key=DEV_KEYS[0],
                                                    name="Fault Works", symbol="FW", admin=deployer, minter=deployer)
        return self.contract_address

    def stop(self) -> None:
        """A clean stop: anvil writes its state file."""
        if self.node is not None:
            self.node.stop()
            self.node = None

    def kill(self) -> None:
        """A crash: nothing written since the last periodic dump survives."""
        if self.node is not None:
            self.node.kill()
            self.node = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self) -> chain_client.ChainClient:
        return chain_client.ChainClient(rpc_url=self.rpc_url, contract_address=self.contract_address,
                                        minter_key=DEV_KEYS[0])

    def rpc(self, method: str, *params):
        body = requests.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                 "params": list(params)}, timeout=10).json()
        if "error" in body:
            raise RuntimeError(body["error"])
        return body["result"]

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)


# ------------------------------------------------------------------------------------------------ fixtures
def own_node(name: str):
    """A module's own node (`node = own_node("indexed")`): started once for the module's tests, killed after them;
    its state dumps only on a clean stop, so each test decides what a kill forgets."""
    @pytest.fixture(scope="module")
    def node(tmp_path_factory):
        chain = RestartableChain(tmp_path_factory.mktemp(name), state_interval_s=3600).start()
        yield chain
        chain.kill()
    return node


@pytest.fixture(name="chain")
def deployed_chain(node: RestartableChain) -> chain_client.ChainClient:
    """`chain`: a fresh contract on the module's node (`own_node`), and a client of it."""
    node.deploy()
    return node.client()
