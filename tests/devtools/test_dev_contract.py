"""`marketplace dev` reuses its recorded contract only while it is the code this checkout builds."""

from __future__ import annotations

import json

import pytest

from devtools.anvil import DEV_KEYS
from devtools.stack import ensure_contract
from marketplace.integrations.chain import client as chain_client

pytestmark = pytest.mark.chain


def test_recorded_contract_is_reused_until_its_code_changes(anvil, tmp_path):
    recorded = tmp_path / "chain" / "deployment.json"
    resets: list[str] = []
    first = ensure_contract(rpc_url=anvil.rpc_url, deployment_file=recorded, deployer_key=DEV_KEYS[0],
                            on_reset=resets.append)
    assert resets == []
    assert ensure_contract(rpc_url=anvil.rpc_url, deployment_file=recorded, deployer_key=DEV_KEYS[0],
                           on_reset=resets.append) == first
    assert resets == []

    # the recorded address holds other code (an older build of the contract, say): deploy anew
    other = chain_client.deploy_artifact(rpc_url=anvil.rpc_url, deployer_key=DEV_KEYS[0],
                                         artifact="BaselineURIStorage", args=("B", "B", "0x" + "34" * 20))
    recorded.write_text(json.dumps({"contract_address": other, "chain_id": 31337}))
    fresh = ensure_contract(rpc_url=anvil.rpc_url, deployment_file=recorded, deployer_key=DEV_KEYS[0],
                            on_reset=resets.append)
    assert fresh not in (first, other)
    assert resets == ["the CreativeWorks contract changed since it was deployed"]
    assert json.loads(recorded.read_text())["contract_address"] == fresh

    # nothing at the recorded address (anvil started without its state): deploy anew
    recorded.write_text(json.dumps({"contract_address": "0x" + "12" * 20, "chain_id": 31337}))
    ensure_contract(rpc_url=anvil.rpc_url, deployment_file=recorded, deployer_key=DEV_KEYS[0],
                    on_reset=resets.append)
    assert resets[-1] == "the chain was reset"


def test_splits_is_deployed_next_to_creative_works_and_reused(anvil, tmp_path):
    recorded = tmp_path / "chain" / "splits.json"
    splits = ensure_contract(rpc_url=anvil.rpc_url, deployment_file=recorded, deployer_key=DEV_KEYS[0],
                             artifact="Splits")
    expected = chain_client.load_artifact("Splits")["deployedBytecode"]
    assert chain_client.make_web3(anvil.rpc_url).eth.get_code(splits).to_0x_hex() == expected
    assert ensure_contract(rpc_url=anvil.rpc_url, deployment_file=recorded, deployer_key=DEV_KEYS[0],
                           artifact="Splits") == splits
