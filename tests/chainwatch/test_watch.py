"""The chain watcher: how it tells a rewound chain and another chain from the one the database recorded, how long it
re-verifies mints (CONFIRMATIONS), and what it sets right. Checks are driven one by one (watcher.check()) against a
node of this module's own, whose history the tests rewind with evm_snapshot / evm_revert."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from web3 import Web3

from marketplace.catalog.models import Work
from marketplace.chainwatch.models import ChainCheckpoint
from marketplace.chainwatch.watcher import ChainWatcher
from marketplace.core import db
from marketplace.core.exceptions import ChainUnavailable
from marketplace.minting.models import MintJob
from marketplace.minting.worker import MintWorker
from tests.conftest import Api
from tests.faults.chain_node import RestartableChain, deployed_chain, own_node  # noqa: F401 - the `chain` fixture
from tests.faults.invariants import transfer_logs

pytestmark = [pytest.mark.chain, pytest.mark.ipfs]
DEV_ADDRESS = Web3.to_checksum_address("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")  # anvil dev account 1


node = own_node("watched")


@pytest.fixture
def api(make_client, node, chain) -> Api:
    return Api(make_client(rpc_url=node.rpc_url, contract_address=chain.contract_address, run_mint_worker=False,
                           run_delivery_worker=False))


def _watcher(chain, confirmations: int = 2) -> ChainWatcher:
    return ChainWatcher(chain=chain, confirmations=confirmations)


def _checkpoint() -> ChainCheckpoint | None:
    with Session(db.get_engine()) as session:
        return session.get(ChainCheckpoint, 1)


def _job() -> MintJob:
    with Session(db.get_engine()) as session:
        return session.exec(select(MintJob)).one()


def _work(work_id: int) -> Work:
    with Session(db.get_engine()) as session:
        return session.get(Work, work_id)


def _minted_work(api: Api, chain) -> dict:
    creator = api.register()
    work = api.upload(creator).json()
    assert api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
    assert MintWorker(chain=chain, receipt_timeout_s=10).run_once() == 1
    return api.wait_for_status(work["id"], "minted", timeout=10)


def test_first_check_records_the_chain_and_opens_the_gate(api, node, chain):
    watcher = _watcher(chain)
    assert not watcher.writable  # nothing is written before the chain is checked
    report = watcher.check()
    assert report.status == "ok" and report.rewind is None
    checkpoint = _checkpoint()
    w3 = Web3(Web3.HTTPProvider(node.rpc_url))
    assert (checkpoint.chain_id, checkpoint.genesis_hash) == (31337, w3.eth.get_block(0)["hash"].to_0x_hex())
    assert (checkpoint.block_number, checkpoint.block_hash) == (node.block_number(),
                                                                w3.eth.get_block("latest")["hash"].to_0x_hex())
    assert checkpoint.contract_address == chain.contract_address and checkpoint.rewinds == 0
    assert watcher.writable
    assert api.client.get("/api/chain").json()["status"] == "ok"


def test_height_going_back_is_a_rewind(api, node, chain):
    watcher = _watcher(chain)
    snapshot = node.rpc("evm_snapshot")
    for _ in range(3):
        node.rpc("evm_mine")
    high = node.block_number()
    assert watcher.check().rewind is None
    node.rpc("evm_revert", snapshot)
    report = watcher.check()
    assert report.rewind == f"the chain went back from block {high} to block {high - 3}"
    assert _checkpoint().rewinds == 1 and _checkpoint().block_number == high - 3
    assert watcher.check().rewind is None  # seen once
    body = api.client.get("/api/chain").json()
    assert body["rewinds"] == 1 and body["last_rewind"] == report.rewind


def test_same_height_with_another_block_hash_is_a_rewind(api, node, chain):
    snapshot = node.rpc("evm_snapshot")
    node.rpc("evm_mine")
    assert _watcher(chain).check().rewind is None
    recorded = _checkpoint()
    node.rpc("evm_revert", snapshot)
    node.rpc("evm_increaseTime", 7)
    node.rpc("evm_mine")  # the same height again, another block
    assert node.block_number() == recorded.block_number
    report = _watcher(chain).check()  # a new process: only the checkpoint remembers
    assert report.rewind is not None and report.rewind.startswith(f"block {recorded.block_number} changed")
    assert recorded.block_hash in report.rewind


def test_another_chain_id_is_refused_until_the_recorded_chain_is_back(api, node, chain):
    work = api.upload(api.register()).json()
    watcher = _watcher(chain)
    assert watcher.check().status == "ok"
    node.rpc("anvil_setChainId", 4242)
    try:
        report = watcher.check()
        assert report.status == "mismatch" and "chain id 4242 (recorded: 31337)" in report.detail
        assert not watcher.writable
        checkpoint = _checkpoint()
        assert checkpoint.status == "mismatch" and checkpoint.chain_id == 31337  # the recorded chain is kept
        body = api.client.get("/api/chain").json()
        assert body["status"] == "mismatch" and "4242" in body["detail"]
        # the workers do not write to it: a gated mint worker leaves its job alone, and the client refuses to send
        worker = MintWorker(chain=chain)
        watcher.follow(worker)
        with Session(db.get_engine()) as session:
            session.add(MintJob(work_id=work["id"], to_address=DEV_ADDRESS, metadata_digest="0x" + "11" * 32,
                                royalty_receiver=DEV_ADDRESS))
            session.commit()
        nonce = chain.w3.eth.get_transaction_count(chain.signer.address)
        assert worker.run_once() == 0
        assert _job().status == "pending" and _job().tx_hash is None
        with pytest.raises(ChainUnavailable, match="another chain"):
            chain.send(chain.prepare_value_transfer(to=DEV_ADDRESS, value_wei=1))
        assert chain.w3.eth.get_transaction_count(chain.signer.address) == nonce
    finally:
        node.rpc("anvil_setChainId", 31337)
    assert watcher.check().status == "ok"
    assert watcher.writable and _checkpoint().status == "ok"


def test_a_chain_id_other_than_the_configured_one_is_refused_from_the_first_check(api, chain):
    watcher = ChainWatcher(chain=chain, confirmations=2, expected_chain_id=1)  # CHAIN_ID=1 (mainnet), anvil: 31337
    report = watcher.check()
    assert report.status == "mismatch" and "chain id 31337 (CHAIN_ID: 1)" in report.detail
    assert not watcher.writable and _checkpoint() is None  # nothing recorded from the wrong chain


def test_another_genesis_is_refused(api, chain, tmp_path):
    assert _watcher(chain).check().status == "ok"
    other = RestartableChain(tmp_path / "other", state_interval_s=3600).start()  # same chain id, another chain
    try:
        other.contract_address = chain.contract_address  # (nothing deployed there: the identity is what differs)
        elsewhere = other.client()
        watcher = _watcher(elsewhere)
        report = watcher.check()
        assert report.status == "mismatch" and "genesis block" in report.detail and "chain id" not in report.detail
        assert not watcher.writable
    finally:
        other.kill()


def test_mints_are_reverified_until_confirmations_deep(api, node, chain):
    minted = _minted_work(api, chain)
    job = _job()
    mined_in = chain.get_receipt(minted["mint_tx_hash"]).block_number
    watcher = _watcher(chain, confirmations=3)
    seen = []
    for _ in range(5):  # the mint has 1, 2, 3, 4, 5 confirmations
        seen.append(watcher.check().verified_mints)
        node.rpc("evm_mine")
    assert seen == [[job.id], [job.id], [job.id], [], []]
    assert (_job().block_number, _job().block_hash) == (mined_in, chain.block_hash(mined_in))


def test_a_rewound_mint_goes_back_to_minting_and_is_minted_once(api, node, chain):
    snapshot = node.rpc("evm_snapshot")
    minted = _minted_work(api, chain)
    watcher = _watcher(chain)
    assert watcher.check().verified_mints == [_job().id]
    node.rpc("evm_revert", snapshot)  # the chain forgets the mint
    assert chain.owner_of(minted["token_id"]) is None

    report = watcher.check()
    assert report.rewind is not None and report.returned_to_minting == [minted["id"]]
    job, work = _job(), _work(minted["id"])
    assert (job.status, job.tx_hash, job.attempts, job.block_number) == ("pending", None, 0, None)
    assert (work.status, work.mint_tx_hash, work.owner_address) == ("minting", None, None)
    body = api.client.get(f"/api/works/{minted['id']}").json()
    assert body["status"] == "minting" and body["mint_tx_hash"] is None

    worker = MintWorker(chain=chain, receipt_timeout_s=10)  # its signer re-read the nonce (the watcher asked)
    assert worker.run_once() == 1
    again = api.wait_for_status(minted["id"], "minted", timeout=10)
    assert chain.owner_of(again["token_id"]) == again["owner_address"]
    assert len(transfer_logs(chain, again["token_id"])) == 1
    assert watcher.check().returned_to_minting == []
    assert _job().block_number == chain.get_receipt(again["mint_tx_hash"]).block_number


def test_a_mint_that_moved_to_another_block_is_recorded_there_not_redone(api, node, chain):
    """A reorg that re-includes the mint elsewhere: the token is still there, only its block changed."""
    minted = _minted_work(api, chain)
    watcher = _watcher(chain)
    watcher.check()
    with Session(db.get_engine()) as session:  # as if recorded on a fork that lost
        job = session.exec(select(MintJob)).one()
        job.block_hash = "0x" + "ab" * 32
        session.add(job)
        session.commit()
    report = watcher.check()
    assert report.returned_to_minting == []
    assert _job().block_hash == chain.block_hash(_job().block_number)
    assert _work(minted["id"]).status == "minted"



class _Follower:
    def __init__(self) -> None:
        self.moved = 0

    def chain_moved(self) -> None:
        self.moved += 1

    def wake(self) -> None:
        pass


def test_a_watcher_without_the_scheduler_lock_follows_the_checkpoint(api, node, chain):
    """Another process runs the checks (its watcher holds the lock): this one opens its workers' gate only once
    the checkpoint says the chain is checked, closes it while a rewind is unhandled, and tells its workers when
    the scheduler handled one."""

    class NotScheduled:
        def held(self) -> bool:
            return False

        def release(self) -> None:
            pass

    scheduler, follower = _watcher(chain), ChainWatcher(chain=chain, confirmations=2)
    follower.scheduler = NotScheduled()
    worker = _Follower()
    follower.follow(worker)
    follower.run_once()
    assert not follower.writable and _checkpoint() is None  # nothing checked yet: it waits, and writes nothing
    scheduler.check()
    follower.run_once()
    assert follower.writable and worker.moved == 0
    snapshot = node.rpc("evm_snapshot")
    for _ in range(3):
        node.rpc("evm_mine")
    scheduler.check()
    follower.run_once()
    assert follower.writable
    node.rpc("evm_revert", snapshot)  # rewound: the checkpoint's block is gone
    follower.run_once()
    assert not follower.writable and worker.moved == 0  # the scheduler has not handled it yet
    assert scheduler.check().rewind is not None
    follower.run_once()
    assert follower.writable and worker.moved == 1  # handled: this process's workers re-check, signers re-read
    follower.run_once()
    assert worker.moved == 1
