"""Several mint workers on one database: every job is minted exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import threading

import pytest
from sqlmodel import Session, select

from devtools.anvil import DEV_KEYS
from marketplace.accounts.models import Account
from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.integrations.chain.client import ChainClient
from marketplace.minting.models import MintJob
from marketplace.minting.worker import MintWorker

pytestmark = pytest.mark.chain


def insert_jobs(n: int) -> list[int]:
    with Session(db.get_engine()) as session:
        creator = Account(email="c@example.lu", display_name="C", role="creator", password_hash="x",
                          custodial_address="0x" + "11" * 20)
        session.add(creator)
        session.flush()
        ids = []
        for i in range(n):
            digest = os.urandom(32)
            work = Work(title=f"W{i}", discipline="design", license="CC0-1.0", price_cents=100,
                        creator_id=creator.id, status="minting", media_cid="bafkreia", media_mime="image/png",
                        media_kind="image", media_size=1, media_sha256="0" * 64, token_id=str(int.from_bytes(digest, "big")))
            session.add(work)
            session.flush()
            session.add(MintJob(work_id=work.id, to_address=creator.custodial_address, metadata_digest="0x" + digest.hex(),
                                royalty_receiver=creator.custodial_address, royalty_bps=100 * (i % 3)))
            ids.append(work.id)
        session.commit()
        return ids


def test_two_workers_mint_every_job_exactly_once(db_url, anvil, contract_address):
    ids = insert_jobs(40)
    # one signer key, shared by both workers in this process (one signer per key)
    chain = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0])
    workers = [MintWorker(chain=chain, batch_size=7, name=f"w{i}") for i in range(2)]
    stop = threading.Event()

    def run(worker):
        while not stop.is_set():
            if not worker.run_once():
                return

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with Session(db.get_engine()) as session:
        works = session.exec(select(Work).where(Work.id.in_(ids))).all()
        jobs = session.exec(select(MintJob)).all()
    assert {w.status for w in works} == {"minted"}
    assert {j.status for j in jobs} == {"confirmed"}
    transfer = chain.contract.events.Transfer()
    logs = transfer.get_logs(from_block=0)
    minted_ids = [log["args"]["tokenId"] for log in logs]
    assert len(minted_ids) == len(set(minted_ids)) == 40
    assert {int(w.token_id) for w in works} == set(minted_ids)
    assert {j.claimed_by for j in jobs} == {None}
