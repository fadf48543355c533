from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from web3 import Web3

from marketplace.core.exceptions import ChainUnavailable
from marketplace.integrations.chain.client import MintRequest
from marketplace.integrations.chain.errors import InsufficientFunds, NonceTooLow
from marketplace.integrations.ipfs.client import raw_cid_from_digest

pytestmark = pytest.mark.chain


def _request(to: str, bps: int = 0) -> MintRequest:
    return MintRequest(to=to, metadata_digest=os.urandom(32), royalty_receiver=to, royalty_bps=bps)


def test_concurrent_signing_uses_consecutive_nonces_and_every_tx_lands(chain):
    owner = Web3.to_checksum_address("0x" + "ab" * 20)
    start = chain.w3.eth.get_transaction_count(chain.signer.address)
    requests = [_request(owner) for _ in range(24)]

    def send(req):
        prepared = chain.prepare_mint(req)
        chain.send(prepared)
        return prepared

    with ThreadPoolExecutor(8) as pool:
        sent = list(pool.map(send, requests))
    assert sorted(p.nonce for p in sent) == list(range(start, start + 24))
    receipts = [chain.wait_for_receipt(p.tx_hash, timeout_s=20) for p in sent]
    assert all(r is not None and r.status == 1 for r in receipts)
    assert chain.contract.functions.balanceOf(owner).call() == 24


def test_nonce_too_low_resyncs_the_signer(chain):
    owner = Web3.to_checksum_address("0x" + "cd" * 20)
    chain.send(chain.prepare_mint(_request(owner)))
    chain.signer._next_nonce = 0  # simulate a stale local counter (another process used the key)
    stale = chain.prepare_mint(_request(owner))
    with pytest.raises(NonceTooLow, match="nonce"):  # anvil's own words, typed by the adapter
        chain.send(stale)
    fresh = chain.prepare_mint(_request(owner))  # re-read from the node after the failure
    chain.send(fresh)
    assert chain.wait_for_receipt(fresh.tx_hash, timeout_s=10).status == 1


def test_receipt_events_token_uri_and_royalty(chain):
    owner = Web3.to_checksum_address("0x" + "ef" * 20)
    req = _request(owner, bps=1000)
    prepared = chain.prepare_mint_batch([req])
    chain.send(prepared)
    receipt = chain.wait_for_receipt(prepared.tx_hash)
    assert [(m.token_id, m.to) for m in receipt.minted] == [(req.token_id, owner)]
    assert chain.owner_of(req.token_id) == owner
    assert chain.token_uri(req.token_id) == f"ipfs://{raw_cid_from_digest(req.metadata_digest)}"
    assert chain.royalty_info(req.token_id, 20_000) == (owner, 2_000)
    assert chain.find_mint(req.token_id).tx_hash == prepared.tx_hash
    assert chain.find_transfer(req.token_id, to=owner).tx_hash == prepared.tx_hash
    assert chain.find_transfer(req.token_id, to="0x" + "99" * 20) is None
    assert chain.find_mint(_request(owner).token_id) is None
    # an idempotent re-send of the same batch mints nothing new
    again = chain.prepare_mint_batch([req])
    chain.send(again)
    assert chain.wait_for_receipt(again.tx_hash).minted == []
    assert chain.owner_of(_request(owner).token_id) is None


def test_unreachable_node_raises_chain_unavailable(anvil, contract_address):
    from devtools.anvil import DEV_KEYS
    from devtools.procs import pick_free_port
    from marketplace.integrations.chain.client import ChainClient

    dead = ChainClient(rpc_url=f"http://127.0.0.1:{pick_free_port()}", contract_address=contract_address,
                       minter_key=DEV_KEYS[0], timeout_s=1)
    with pytest.raises(ChainUnavailable):
        dead.ping()


def test_wait_for_receipt_times_out_on_an_unmined_transaction_then_finds_it(chain, rpc):
    owner = Web3.to_checksum_address("0x" + "fa" * 20)
    rpc("evm_setAutomine", False)
    try:
        prepared = chain.prepare_mint(_request(owner))
        chain.send(prepared)
        assert chain.wait_for_receipt(prepared.tx_hash, timeout_s=0.3) is None
        rpc("evm_mine")
    finally:
        rpc("evm_setAutomine", True)
    receipt = chain.wait_for_receipt(prepared.tx_hash, timeout_s=5)
    assert receipt is not None and receipt.status == 1 and receipt.minted[0].to == owner


def test_a_signer_without_gas_gets_insufficient_funds(chain):
    broke = chain.signer_for("0x" + "5a" * 32)  # a fresh key: no ether
    prepared = chain.prepare_set_operator(broke, chain.signer.address)
    with pytest.raises(InsufficientFunds):
        chain.send(prepared, signer=broke)


def test_the_services_royalty_cap_is_the_contracts(chain):
    from marketplace.core.limits import MAX_ROYALTY_BPS

    assert chain.contract.functions.MAX_ROYALTY_BPS().call() == MAX_ROYALTY_BPS
