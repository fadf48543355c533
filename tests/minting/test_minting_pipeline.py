"""The mint worker's hot path: pipelined batches (the next one signed, recorded and sent while the previous one is
mined), one database transaction for claim + write-ahead, set-based settling; exactly once through a crash between
two pipelined batches (SQLite and PostgreSQL)."""

from __future__ import annotations

import os

import pytest
from sqlmodel import Session, select
from web3 import Web3

from devtools.anvil import DEV_KEYS
from marketplace.accounts.models import Account
from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.core.exceptions import ChainUnavailable
from marketplace.integrations.chain.client import ChainClient, MintRequest
from marketplace.minting.models import MintJob
from marketplace.minting.worker import MintWorker

pytestmark = pytest.mark.chain


def _owner() -> str:
    return Web3.to_checksum_address("0x" + os.urandom(20).hex())


def insert_jobs(owners: list[str]) -> list[int]:
    """One work in `minting` and one pending job per owner, as request_mint leaves them. Returns the job ids."""
    with Session(db.get_engine()) as session:
        creator = Account(email=f"c{os.urandom(4).hex()}@example.lu", display_name="C", role="creator",
                          password_hash="x", custodial_address=owners[0])
        session.add(creator)
        session.flush()
        jobs = []
        for i, owner in enumerate(owners):
            digest = os.urandom(32)
            work = Work(title=f"W{i}", discipline="design", license="CC0-1.0", price_cents=100,
                        creator_id=creator.id, status="minting", media_cid="bafkreia", media_mime="image/png",
                        media_kind="image", media_size=1, media_sha256="0" * 64,
                        token_id=str(int.from_bytes(digest, "big")))
            session.add(work)
            session.flush()
            job = MintJob(work_id=work.id, to_address=owner, metadata_digest="0x" + digest.hex(),
                          royalty_receiver=owner, royalty_bps=250)
            session.add(job)
            jobs.append(job)
        session.flush()
        ids = [j.id for j in jobs]
        session.commit()
        return ids


def rows(job_ids: list[int]) -> list[tuple[MintJob, Work]]:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(MintJob, Work).join(Work, MintJob.work_id == Work.id)
                                 .where(MintJob.id.in_(job_ids)).order_by(MintJob.id)).all())


def mint_logs(chain: ChainClient) -> list[int]:
    return [log["args"]["tokenId"] for log in chain.contract.events.Transfer().get_logs(from_block=0)
            if log["args"]["from"] == "0x" + "00" * 20]


def test_crash_between_two_pipelined_batches_mints_each_token_once(db_url, anvil, contract_address):
    """Batch A is sent; batch B is claimed, signed and written ahead while A is in flight; the process dies as it
    sends B. A restarted worker settles A from its receipt (nothing re-sent) and mints B once."""
    owner = _owner()
    ids = insert_jobs([owner] * 4)
    chain = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0])
    crashed = MintWorker(chain=chain, batch_size=2, pipeline_depth=2, stale_submit_s=0.0, receipt_timeout_s=5,
                         name="crashed")
    real_send = chain.send
    sent: list[str] = []

    def send_then_die(prepared, **kwargs):
        if sent:
            raise KeyboardInterrupt("simulated crash while sending the second batch")
        sent.append(real_send(prepared, **kwargs))
        return sent[-1]

    chain.send = send_then_die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        crashed.run_once()
    del chain.send

    (first_tx,) = sent
    before = rows(ids)
    a, b = before[:2], before[2:]
    # A was mined but not yet settled when B was written ahead: the pipeline
    assert chain.get_receipt(first_tx).status == 1
    assert [(j.status, j.tx_hash, j.attempts) for j, _ in a] == [("submitted", first_tx, 1)] * 2
    assert {w.status for _, w in a} == {"minting"}
    second_tx = b[0][0].tx_hash
    assert second_tx and second_tx != first_tx
    assert [(j.status, j.tx_hash, j.nonce) for j, _ in b] == [("submitted", second_tx, b[0][0].nonce)] * 2
    assert chain.get_receipt(second_tx) is None and not chain.tx_known(second_tx)  # never reached the node

    chain.signer.resync()  # a restarted process starts with a fresh signer
    restarted = MintWorker(chain=chain, batch_size=2, stale_submit_s=0.0, receipt_timeout_s=5, name="restarted")
    sent_before = chain.w3.eth.get_transaction_count(chain.signer.address)
    restarted.run_once()  # A from its receipt; B unknown to the node -> pending again, then re-sent
    restarted.run_once()
    after = rows(ids)
    assert {j.status for j, _ in after} == {"confirmed"}
    assert {w.status for _, w in after} == {"minted"}
    assert [w.mint_tx_hash for _, w in after[:2]] == [first_tx] * 2  # A was not sent again
    assert [j.attempts for j, _ in after] == [1, 1, 2, 2]
    resent = after[2][1].mint_tx_hash
    assert resent not in (first_tx, None) and after[3][1].mint_tx_hash == resent
    assert chain.w3.eth.get_transaction_count(chain.signer.address) == sent_before + 1  # only B, once
    minted = mint_logs(chain)
    assert sorted(minted) == sorted(int(w.token_id) for _, w in after)  # each token once
    assert all(w.owner_address == owner for _, w in after)


def test_pipelined_batches_settle_every_job_with_its_own_transaction(db_url, anvil, contract_address):
    """Five batches of two in one round, two in flight at a time: every job confirmed, each batch its own
    transaction, nothing claimed or in flight when the round ends."""
    owners = [_owner() for _ in range(10)]
    ids = insert_jobs(owners)
    chain = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0])
    worker = MintWorker(chain=chain, batch_size=2, pipeline_depth=2, name="piped")
    assert worker.submit_batch() == 10
    after = rows(ids)
    assert {(j.status, j.claimed_by) for j, _ in after} == {("confirmed", None)}
    hashes = [j.tx_hash for j, _ in after]
    assert len(set(hashes)) == 5 and all(hashes[i] == hashes[i + 1] for i in range(0, 10, 2))
    assert [w.mint_tx_hash for _, w in after] == hashes
    assert [w.owner_address for _, w in after] == owners
    for tx_hash in set(hashes):
        assert chain.get_receipt(tx_hash).status == 1
    assert sorted(mint_logs(chain)) == sorted(int(w.token_id) for _, w in after)


def test_batch_settles_set_based_by_transaction_and_owner(db_url, anvil, contract_address):
    """One batch of three owners where one token was already minted by an earlier transaction: each job and work
    records the transaction that minted its token and its own owner; settling again changes nothing."""
    owners = [_owner() for _ in range(3)]
    ids = insert_jobs(owners)
    chain = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0])
    early_job = rows(ids)[0][0]
    early = chain.prepare_mint_batch([MintRequest(
        to=owners[0], metadata_digest=bytes.fromhex(early_job.metadata_digest[2:]), royalty_receiver=owners[0],
        royalty_bps=250)])
    chain.send(early)
    assert chain.wait_for_receipt(early.tx_hash).status == 1

    worker = MintWorker(chain=chain, batch_size=10, name="settle")
    assert worker.run_once() == 3
    after = rows(ids)
    batch_tx = after[1][0].tx_hash
    assert batch_tx != early.tx_hash
    assert [(j.status, j.tx_hash) for j, _ in after] == [("confirmed", early.tx_hash), ("confirmed", batch_tx),
                                                         ("confirmed", batch_tx)]
    assert [(w.status, w.mint_tx_hash, w.owner_address, w.chain_id, w.contract_address) for _, w in after] == [
        ("minted", tx, owner, 31337, contract_address)
        for tx, owner in zip([early.tx_hash, batch_tx, batch_tx], owners, strict=True)]
    assert chain.get_receipt(batch_tx).minted and len(chain.get_receipt(batch_tx).minted) == 2

    minted_at = [w.minted_at for _, w in after]
    receipt = chain.get_receipt(batch_tx)
    worker._settle([j for j, _ in after], receipt)  # a duplicate settle (say, reconcile after a restart)
    assert [w.minted_at for _, w in rows(ids)] == minted_at
    assert sorted(mint_logs(chain)) == sorted(int(w.token_id) for _, w in after)


def test_a_failed_signing_claims_nothing(db_url, anvil, contract_address):
    """Claim and write-ahead are one database transaction: when signing fails, the jobs are pending and unclaimed
    (no lease to wait out), with the reason recorded."""
    ids = insert_jobs([_owner(), _owner()])
    chain = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0])

    def fail(*_args, **_kwargs):
        raise ChainUnavailable("fee history unavailable")

    chain.prepare_mint_batch = fail  # type: ignore[method-assign]
    worker = MintWorker(chain=chain, batch_size=10, name="unlucky")
    with pytest.raises(ChainUnavailable):
        worker.run_once()
    assert [(j.status, j.claimed_by, j.claimed_until, j.tx_hash, j.attempts, j.last_error) for j, _ in rows(ids)] == [
        ("pending", None, None, None, 0, "fee history unavailable")] * 2
    del chain.prepare_mint_batch
    assert MintWorker(chain=chain, batch_size=10, name="next").run_once() == 2
    assert {j.status for j, _ in rows(ids)} == {"confirmed"}
