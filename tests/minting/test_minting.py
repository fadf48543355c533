"""The creator path end to end: upload -> mint -> token on chain with metadata on IPFS; and exactly-once minting
through crashes, lost transactions and repeated requests. (The worker process killed in each mint state:
tests/faults/test_worker_kills.py.)"""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select
from web3 import Web3

from marketplace.core import db
from marketplace.integrations.chain.client import load_artifact
from marketplace.integrations.ipfs.client import raw_cid_digest
from marketplace.minting.models import MintJob
from marketplace.minting.worker import MintWorker

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def contract_at(anvil, address):
    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
    return w3, w3.eth.contract(address=address, abi=load_artifact("CreativeWorks")["abi"])


def mint_transfer_logs(w3, contract, token_id: int) -> list:
    return contract.events.Transfer().get_logs(from_block=0, argument_filters={"tokenId": token_id})


def test_full_creator_path_mints_token_with_ipfs_metadata(api, anvil, ipfs_client, contract_address):
    creator = api.register(role="creator", name="Anna Schmit")
    work = api.upload(creator, title="Kirchberg at Dusk", royalty_bps=750, price_cents=12000).json()

    r = api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])
    assert r.status_code == 202, r.text
    assert r.json()["status"] in ("minting", "minted")
    minted = api.wait_for_status(work["id"], "minted")

    assert minted["contract_address"] == contract_address
    assert minted["owner_address"] == creator["wallet_address"]
    assert minted["token_uri"] == f"ipfs://{minted['metadata_cid']}"
    assert minted["mint_tx_hash"].startswith("0x") and len(minted["mint_tx_hash"]) == 66
    assert minted["token_id"] == int.from_bytes(raw_cid_digest(minted["metadata_cid"]), "big")

    # on chain
    w3, contract = contract_at(anvil, contract_address)
    token_id = minted["token_id"]
    assert contract.functions.ownerOf(token_id).call() == creator["wallet_address"]
    assert contract.functions.tokenURI(token_id).call() == minted["token_uri"]
    receiver, amount = contract.functions.royaltyInfo(token_id, 10_000).call()
    assert (receiver, amount) == (creator["wallet_address"], 750)
    receipt = w3.eth.get_transaction_receipt(minted["mint_tx_hash"])
    assert receipt["status"] == 1

    # the metadata on IPFS describes the work and points at the media
    metadata = json.loads(ipfs_client.cat_bytes(minted["metadata_cid"]))
    assert metadata["name"] == "Kirchberg at Dusk"
    assert metadata["image"] == f"ipfs://{work['media_cid']}"
    traits = {a["trait_type"]: a["value"] for a in metadata["attributes"]}
    assert traits["Discipline"] == "photography"
    assert traits["Creator"] == "Anna Schmit"
    assert traits["License"] == "CC-BY-4.0"
    assert metadata["properties"]["creators"][0]["address"] == creator["wallet_address"]
    assert api.client.get(f"/ipfs/{minted['metadata_cid']}").json()["name"] == "Kirchberg at Dusk"

    # minted works are public
    listed = api.client.get("/api/works").json()
    assert [w["id"] for w in listed["data"]] == [work["id"]]

    # and never minted twice
    again = api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])
    assert again.status_code == 409
    assert len(mint_transfer_logs(w3, contract, token_id)) == 1


def test_audio_work_metadata_uses_animation_url(api, ipfs_client):
    from tests.catalog.test_works_api import wav_bytes

    creator = api.register()
    work = api.upload(creator, content=wav_bytes(), filename="theme.wav", discipline="music").json()
    api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])
    minted = api.wait_for_status(work["id"], "minted")
    metadata = json.loads(ipfs_client.cat_bytes(minted["metadata_cid"]))
    assert metadata["animation_url"] == f"ipfs://{work['media_cid']}"


def test_only_the_creator_can_mint(api):
    creator, other, buyer = api.register(), api.register(), api.register(role="buyer")
    work = api.upload(creator).json()
    # another creator does not even learn the draft exists; a buyer is no creator at all
    assert api.client.post(f"/api/works/{work['id']}/mint", headers=other["headers"]).status_code == 404
    assert api.client.post(f"/api/works/{work['id']}/mint", headers=buyer["headers"]).status_code == 403
    assert api.client.post(f"/api/works/{work['id']}/mint").status_code == 401
    assert api.client.get(f"/api/works/{work['id']}", headers=creator["headers"]).json()["status"] == "draft"


def test_chain_unreachable_is_503_and_work_stays_draft(make_client):
    from devtools.procs import pick_free_port
    from tests.conftest import Api

    api = Api(make_client(rpc_url=f"http://127.0.0.1:{pick_free_port()}", run_mint_worker=False))
    creator = api.register()
    work = api.upload(creator).json()
    r = api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])
    assert r.status_code == 503, r.text
    assert "unreachable" in r.json()["detail"]
    body = api.client.get(f"/api/works/{work['id']}", headers=creator["headers"]).json()
    assert body["status"] == "draft" and body["metadata_cid"] is None
    with Session(db.get_engine()) as session:
        assert session.exec(select(MintJob)).all() == []


def test_repeated_and_concurrent_mint_requests_queue_one_job(make_client, anvil, contract_address):
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import Api

    api = Api(make_client(run_mint_worker=False))
    creator = api.register()
    work = api.upload(creator).json()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(
            lambda _: api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code,
            range(8)))
    assert codes == [202] * 8
    with Session(db.get_engine()) as session:
        assert len(session.exec(select(MintJob)).all()) == 1


def _job() -> MintJob:
    with Session(db.get_engine()) as session:
        return session.exec(select(MintJob)).one()


def _worker(chain) -> MintWorker:
    return MintWorker(chain=chain, poll_interval_s=0.05, stale_submit_s=0.0, receipt_timeout_s=5)


def test_crash_after_write_ahead_before_send_resumes_and_mints_once(make_client, chain, anvil, contract_address):
    """The process dies after the tx hash is stored but before the tx reaches the node."""
    from tests.conftest import Api

    api = Api(make_client(run_mint_worker=False))
    creator = api.register()
    work = api.upload(creator).json()
    api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])

    crashed = _worker(chain)

    def die(_prepared):
        raise KeyboardInterrupt("simulated crash")

    crashed.chain.send = die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        crashed.run_once()
    job = _job()
    assert job.status == "submitted" and job.tx_hash
    del crashed.chain.send  # the next process has a working network

    w3, contract = contract_at(anvil, contract_address)
    assert w3.eth.get_transaction_count(chain.signer.address) == w3.eth.get_transaction_count(
        chain.signer.address, "pending")
    chain.signer.resync()  # a restarted process starts with a fresh signer
    _worker(chain).run_once()  # reconciles (tx unknown to the node -> pending) and resubmits
    _worker(chain).run_once()
    body = api.wait_for_status(work["id"], "minted", timeout=10)
    assert len(mint_transfer_logs(w3, contract, body["token_id"])) == 1
    assert _job().status == "confirmed"


def test_dropped_transaction_is_resubmitted_and_mints_once(make_client, chain, anvil, contract_address, rpc):
    from tests.conftest import Api

    api = Api(make_client(run_mint_worker=False))
    creator = api.register()
    work = api.upload(creator).json()
    api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])
    rpc("evm_setAutomine", False)
    try:
        worker = MintWorker(chain=chain, poll_interval_s=0.05, stale_submit_s=0.0, receipt_timeout_s=0.3)
        worker.run_once()  # submits; the receipt never comes
        first_tx = _job().tx_hash
        assert _job().status == "submitted"
        rpc("anvil_dropAllTransactions")
    finally:
        rpc("evm_setAutomine", True)
    chain.signer.resync()
    _worker(chain).run_once()  # the node forgot the tx -> back to pending
    _worker(chain).run_once()  # resubmitted
    body = api.wait_for_status(work["id"], "minted", timeout=10)
    assert _job().attempts == 2
    w3, contract = contract_at(anvil, contract_address)
    # same nonce, same calldata: the re-signed transaction may even have the same hash; it is mined now
    assert first_tx and w3.eth.get_transaction_receipt(body["mint_tx_hash"])["status"] == 1
    assert len(mint_transfer_logs(w3, contract, body["token_id"])) == 1
