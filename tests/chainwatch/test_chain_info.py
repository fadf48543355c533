"""GET /api/chain tells wallets where the chain is, never the operator's own RPC URL (it may carry an API key)."""

from __future__ import annotations

import pytest

from marketplace.core.config import Settings

pytestmark = [pytest.mark.chain, pytest.mark.ipfs]


def test_chain_info_shows_the_local_rpc_in_dev_and_test(client, anvil, contract_address):
    body = client.get("/api/chain").json()
    assert (body["chain_id"], body["rpc_url"], body["contract_address"]) == (31337, anvil.rpc_url, contract_address)


def test_the_private_rpc_url_is_never_shown_outside_dev():
    private = "https://mainnet.provider.example/v3/SECRET-KEY"
    values = dict(_env_file=None, env="production", rpc_url=private, database_url="postgresql://db/x",
                  contract_address="0x" + "11" * 20, minter_private_key="0x" + "22" * 32,
                  wallet_secret="w" * 40, auth_secret="a" * 40, stripe_api_key="sk_test_x",
                  stripe_webhook_secret="whsec_x", max_fee_per_gas_gwei=100,
                  metrics_token="m" * 32)
    assert Settings(**values).shown_rpc_url == ""
    assert Settings(**values, public_rpc_url="https://rpc.example.lu").shown_rpc_url == "https://rpc.example.lu"
