"""The chain indexer against a real anvil and the real contract: mints and transfers made by the product and from
outside it (a raw transaction signed with a custody key), rescans that add nothing, a reorganisation (evm_revert,
anvil_reorg) and a chain restarted from an older state dump, after which no owner is wrong. The node is this
module's own (its history is rewound); steps are driven one by one (worker.step())."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select
from web3 import Web3

from marketplace.accounts.wallets import custodial_signer
from marketplace.catalog import service as catalog_service
from marketplace.core import db
from marketplace.indexer import service as index
from marketplace.indexer.models import ChainEvent, IndexerCursor
from marketplace.indexer.worker import IndexerWorker
from marketplace.integrations.chain.client import ZERO_ADDRESS
from marketplace.minting.worker import MintWorker
from tests.conftest import Api
from tests.faults.chain_node import deployed_chain, own_node  # noqa: F401 - the `chain` fixture
from tests.faults.invariants import transfer_logs

pytestmark = [pytest.mark.chain, pytest.mark.ipfs]
OUTSIDE = Web3.to_checksum_address("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")  # anvil dev account 1
ELSEWHERE = Web3.to_checksum_address("0x" + "77" * 20)
CHECKOUT_BODY = {"accept_immediate_supply": True, "accept_license": True}


node = own_node("indexed")


@pytest.fixture
def api(make_client, node, chain) -> Api:
    return Api(make_client(rpc_url=node.rpc_url, contract_address=chain.contract_address, splits_address=None,
                           run_mint_worker=False, run_delivery_worker=False, run_indexer=False))


@pytest.fixture
def heard(monkeypatch) -> list[tuple]:
    """The transfer handlers' calls in this test (the catalog's handler, which withdraws works, and a recorder)."""
    calls: list[tuple] = []
    monkeypatch.setattr(index, "_transfer_handlers", [catalog_service.follow_token])
    index.register_transfer_handler(
        lambda session, token_id, from_, to, event: calls.append((token_id, from_, to, event is not None)))
    return calls


def _indexer(chain, **kwargs) -> IndexerWorker:
    return IndexerWorker(chain=chain, **kwargs)


def _minted(api: Api, chain) -> tuple[dict, dict]:
    creator = api.register()
    work = api.upload(creator).json()
    assert api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
    assert MintWorker(chain=chain, receipt_timeout_s=10).run_once() == 1
    return creator, api.wait_for_status(work["id"], "minted", timeout=10)


def _send_from_custody(api: Api, chain, creator: dict, token_id: int, to: str) -> str:
    """A transfer made outside the marketplace: signed with the creator's custody key (derived as the product
    derives it), sent raw to the node."""
    key = custodial_signer(api.settings().wallet_secret.get_secret_value(), creator["id"]).key
    seller = chain.signer_for(key)
    chain.resync_signers()  # the test rewinds the chain: nonces are read again
    if chain.eth_balance(seller.address) < 10**16:
        topup = chain.prepare_value_transfer(to=seller.address, value_wei=10**17)
        chain.send(topup)
        assert chain.wait_for_receipt(topup.tx_hash).status == 1
    tx = chain.prepare_transfer(seller, to=to, token_id=token_id)
    chain.w3.eth.send_raw_transaction(tx.raw)
    assert chain.wait_for_receipt(tx.tx_hash).status == 1
    return tx.tx_hash


def _events(**where) -> list[ChainEvent]:
    with Session(db.get_engine()) as session:
        query = select(ChainEvent).order_by(ChainEvent.block_number, ChainEvent.log_index)
        for name, value in where.items():
            query = query.where(getattr(ChainEvent, name) == value)
        return list(session.exec(query).all())


def _owner(token_id: int) -> str | None:
    with Session(db.get_engine()) as session:
        return index.owner_of(session, token_id)


def _event_count() -> int:
    with Session(db.get_engine()) as session:
        return session.exec(select(func.count()).select_from(ChainEvent)).one()


def test_mints_and_an_outside_transfer_are_indexed_once(api, chain, heard):
    creator, work = _minted(api, chain)
    token_id = work["token_id"]
    indexer = _indexer(chain)
    assert indexer.catch_up() > 0
    mint = _events(event="Transfer")
    assert [(e.from_address, e.to_address, e.token_id) for e in mint] == [
        (ZERO_ADDRESS, creator["wallet_address"], str(token_id))]
    assert mint[0].tx_hash == work["mint_tx_hash"] and mint[0].timestamp is not None
    assert _owner(token_id) == creator["wallet_address"]
    assert heard == [(token_id, ZERO_ADDRESS, creator["wallet_address"], True)]
    assert _events(event="TokenRoyaltySet")[0].token_id == str(token_id)  # 5 % royalty: its event is indexed too

    tx_hash = _send_from_custody(api, chain, creator, token_id, OUTSIDE)
    assert indexer.catch_up() > 0
    assert _owner(token_id) == OUTSIDE == chain.owner_of(token_id)
    assert heard[1:] == [(token_id, creator["wallet_address"], OUTSIDE, True)]
    assert _events(event="Transfer")[-1].tx_hash == tx_hash
    with Session(db.get_engine()) as session:
        assert index.tokens_of(session, OUTSIDE) == [token_id]
        assert index.tokens_of(session, creator["wallet_address"]) == []

    # the buyer's checkout is refused: the token is no longer the creator's to sell
    buyer = api.register(role="buyer")
    r = api.client.post(f"/api/works/{work['id']}/checkout", headers=buyer["headers"], json=CHECKOUT_BODY)
    assert r.status_code == 409, r.text
    assert "transferred" in r.json()["detail"]
    shown = api.client.get(f"/api/works/{work['id']}").json()
    assert shown["sale_status"] == "withdrawn"
    assert shown["owner_address"] == OUTSIDE  # the owner the API shows is the chain's, not the mint's record
    listed = api.client.get("/api/works", params={"creator_id": creator["id"]}).json()["data"]
    assert [w["owner_address"] for w in listed] == [OUTSIDE]
    page = api.client.get(f"/works/{work['id']}").text
    assert 'id="work-withdrawn"' in page and "Buy for" not in page and OUTSIDE in page  # the owner: the index's

    # reading every block again (a new indexer, the cursor back at the start) adds no row and calls no handler
    count = _event_count()
    with Session(db.get_engine()) as session:
        cursor = session.get(IndexerCursor, 1)
        session.delete(cursor)
        session.commit()
    assert _indexer(chain, blocks_per_step=3).catch_up() > 0
    assert _event_count() == count and len(heard) == 2
    assert [(f, t) for f, t in transfer_logs(chain, token_id)] == [
        (e.from_address, e.to_address) for e in _events(event="Transfer")]

    # the whole index forgotten and read in one step (the mint and the transfer in one multi-row write): the owner
    # is the latest Transfer's receiver, and the handlers hear both, in chain order
    with Session(db.get_engine()) as session:
        index.reset(session)
        session.commit()
    assert _indexer(chain).catch_up() > 0
    assert _owner(token_id) == OUTSIDE and _event_count() == count
    assert heard[2:] == [(token_id, ZERO_ADDRESS, creator["wallet_address"], True),
                         (token_id, creator["wallet_address"], OUTSIDE, True)]


def test_a_reverted_transfer_leaves_no_wrong_owner(api, node, chain, heard):
    creator, work = _minted(api, chain)
    token_id, custody = work["token_id"], creator["wallet_address"]
    indexer = _indexer(chain)
    indexer.catch_up()
    snapshot = node.rpc("evm_snapshot")
    _send_from_custody(api, chain, creator, token_id, OUTSIDE)
    indexer.catch_up()
    assert _owner(token_id) == OUTSIDE
    sale_status = lambda: api.client.get(f"/api/works/{work['id']}").json()["sale_status"]
    assert sale_status() == "withdrawn"  # the catalog's handler: the token left the creator's wallet
    taken = _events(event="Transfer")[-1]

    node.rpc("evm_revert", snapshot)  # the transfer's block (and the gas money's) are gone
    for _ in range(3):
        node.rpc("evm_mine")  # the chain grows past the old height on another branch
    assert chain.owner_of(token_id) == custody
    assert indexer.catch_up() > 0
    assert _owner(token_id) == custody
    assert taken.block_hash not in {e.block_hash for e in _events()}
    assert heard[-1] == (token_id, OUTSIDE, custody, False)  # told of the undone move (no event: a reorganisation)
    assert sale_status() == "available"  # back in the creator's wallet: for sale again
    assert api.client.get(f"/api/works/{work['id']}").json()["owner_address"] == custody  # the undone move: undone
    with Session(db.get_engine()) as session:
        assert session.get(IndexerCursor, 1).reorgs == 1

    # the same transfer again on the new branch, to someone else: indexed as new, the owner follows
    _send_from_custody(api, chain, creator, token_id, ELSEWHERE)
    indexer.catch_up()
    assert _owner(token_id) == ELSEWHERE == chain.owner_of(token_id)
    assert sale_status() == "withdrawn"
    assert [e.to_address for e in _events(event="Transfer")] == [custody, ELSEWHERE]


def test_anvil_reorg_replacing_the_last_blocks(api, node, chain, heard):
    creator, work = _minted(api, chain)
    token_id, custody = work["token_id"], creator["wallet_address"]
    indexer = _indexer(chain)
    _send_from_custody(api, chain, creator, token_id, OUTSIDE)
    indexer.catch_up()
    assert _owner(token_id) == OUTSIDE
    head = node.block_number()
    node.rpc("anvil_reorg", 1, [])  # the last block (the transfer) replaced by an empty one, same height
    assert node.block_number() == head and chain.owner_of(token_id) == custody
    indexer.catch_up()
    assert _owner(token_id) == custody
    assert [e.to_address for e in _events(event="Transfer")] == [custody]
    assert heard[-1] == (token_id, OUTSIDE, custody, False)


def test_chain_restarted_from_an_older_dump_mid_index(api, node, chain, heard):
    """Indexed a few blocks at a time; the node restarts cleanly (same chain) mid-index, then is killed after a
    transfer its dump does not hold and comes back without it: the index follows the chain, no row twice."""
    creator, work = _minted(api, chain)
    token_id, custody = work["token_id"], creator["wallet_address"]
    indexer = _indexer(chain, blocks_per_step=2)
    assert indexer.step() == 2  # mid-index: blocks 0-1 of many
    node.restart()  # a clean stop dumps the whole chain: the same chain comes back
    indexer.catch_up()
    mints = _events(event="Transfer")
    assert [(e.from_address, e.to_address) for e in mints] == [(ZERO_ADDRESS, custody)]
    count = _event_count()

    _send_from_custody(api, chain, creator, token_id, OUTSIDE)
    indexer.catch_up()
    assert _owner(token_id) == OUTSIDE
    node.kill()  # a crash: the dump on disk was written before the transfer
    node.start()
    assert chain.owner_of(token_id) == custody
    indexer.catch_up()
    assert _owner(token_id) == custody
    assert _event_count() == count
    assert heard[-1] == (token_id, OUTSIDE, custody, False)
    assert [(f, t) for f, t in transfer_logs(chain, token_id)] == [
        (e.from_address, e.to_address) for e in _events(event="Transfer")]
