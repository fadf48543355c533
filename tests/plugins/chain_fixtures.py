"""A real anvil for the whole session, and a freshly deployed contract for each test that needs one."""

from __future__ import annotations

import pytest

from devtools.anvil import DEV_KEYS, AnvilNode
from devtools.procs import pick_free_port
from marketplace.integrations.chain import client as chain_client

DEPLOYER_KEY = DEV_KEYS[0]


@pytest.fixture(scope="session")
def anvil(tmp_path_factory):
    log = tmp_path_factory.mktemp("anvil") / "anvil.log"
    with AnvilNode.start(port=pick_free_port(), log_path=log) as node:
        yield node


@pytest.fixture
def contract_address(anvil) -> str:
    deployer = chain_client.EthAccount.from_key(DEPLOYER_KEY).address
    return chain_client.deploy(rpc_url=anvil.rpc_url, deployer_key=DEPLOYER_KEY, name="Test Works",
                               symbol="TW", admin=deployer, minter=deployer)


@pytest.fixture
def splits_address(anvil) -> str:
    """A fresh Splits contract (the royalty splits of co-created works)."""
    return chain_client.deploy_splits(rpc_url=anvil.rpc_url, deployer_key=DEPLOYER_KEY)


@pytest.fixture
def chain(anvil, contract_address, splits_address) -> chain_client.ChainClient:
    return chain_client.ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address,
                                    minter_key=DEPLOYER_KEY, splits_address=splits_address)


@pytest.fixture
def rpc(anvil):
    """Raw JSON-RPC to anvil (evm_mine, evm_setAutomine, anvil_dropAllTransactions…)."""
    import requests

    def call(method, *params):
        r = requests.post(anvil.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
                          timeout=10)
        body = r.json()
        if "error" in body:
            raise RuntimeError(body["error"])
        return body["result"]

    return call
