"""Delivery workers racing for paid purchases: each purchase is claimed by exactly one (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from marketplace.accounts.models import Account
from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.payments.delivery import DeliveryWorker
from marketplace.payments.models import Purchase


def _paid_purchases(n: int) -> list[int]:
    with Session(db.get_engine()) as session:
        seller = Account(email="s@example.lu", display_name="S", role="creator", password_hash="x")
        buyer = Account(email="b@example.lu", display_name="B", role="buyer", password_hash="x")
        session.add_all([seller, buyer])
        session.flush()
        works = [Work(title=f"W{i}", discipline="design", license="CC0-1.0", price_cents=100, creator_id=seller.id,
                      status="minted", media_cid="bafkreia", media_mime="image/png", media_kind="image",
                      media_size=1, media_sha256="0" * 64, token_id=str(i + 1)) for i in range(n)]
        session.add_all(works)
        session.flush()
        purchases = [Purchase(work_id=w.id, buyer_id=buyer.id, status="paid", amount_cents=100,
                              wallet_address="0x" + "22" * 20) for w in works]
        session.add_all(purchases)
        session.commit()
        return [p.id for p in purchases]


def _worker(name: str) -> DeliveryWorker:
    return DeliveryWorker(chain=None, gateway=None, wallet_secret="x", fee_bps=0, batch_size=7, name=name)


def test_racing_workers_claim_each_paid_purchase_once(db_url):
    ids = _paid_purchases(60)
    workers = [_worker(f"w{i}") for i in range(4)]
    taken: dict[str, list[int]] = {w.name: [] for w in workers}
    start = threading.Barrier(len(workers))

    def run(worker: DeliveryWorker) -> None:
        start.wait()
        while claimed := worker._claim():
            assert len(claimed) <= 7
            assert all(p.claimed_by == worker.name and p.status == "paid" for p in claimed)
            taken[worker.name] += [p.id for p in claimed]

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [i for got in taken.values() for i in got]
    assert sorted(every) == ids  # all of them, none twice
    with Session(db.get_engine()) as session:
        owners = {p.id: p.claimed_by for p in session.exec(select(Purchase)).all()}
    assert all(owners[i] == name for name, got in taken.items() for i in got)


def test_a_claim_is_taken_over_only_after_its_lease(db_url):
    ids = _paid_purchases(3)
    first, second = _worker("first"), _worker("second")
    assert [p.id for p in first._claim()] == ids
    assert second._claim() == []  # leased
    with Session(db.get_engine()) as session:  # the first worker died; its lease ran out
        session.exec(update(Purchase).values(claimed_until=db.utcnow() - timedelta(seconds=1)))
        session.commit()
    assert [p.id for p in second._claim()] == ids


def test_gas_budget_reads_the_balance_only_when_needed_and_never_overspends(chain):
    import os

    from marketplace.integrations.chain.client import transfer_gas

    wallet = chain.signer_for(os.urandom(32)).address  # a fresh custody wallet: no ETH
    gas = transfer_gas(10)
    cost = gas * chain.fees()["maxFeePerGas"]
    worker = DeliveryWorker(chain=chain, gateway=None, wallet_secret="x", fee_bps=0, gas_topup_wei=3 * cost)
    reads, real_balance = [], chain.eth_balance
    chain.eth_balance = lambda address: reads.append(address) or real_balance(address)

    since_read = 0  # the most the batches since the last balance read can cost (nothing is sent here)
    for _ in range(7):
        before = len(reads)
        worker.custody.ensure_gas(wallet, gas=gas)
        since_read = cost if len(reads) > before else since_read + cost
        # the budget never promises more than the wallet holds beyond what the batches since the read may take
        assert worker.custody.gas_budget[wallet] + since_read <= real_balance(wallet)
        assert worker.custody.gas_budget[wallet] >= 0
    assert 1 < len(reads) < 7  # read on the first batch and when the budget ran out, not every time


def test_an_idle_claim_writes_nothing(db_url):
    """A worker woken with nothing to claim (every webhook wakes it) only reads: no UPDATE, no write transaction
    for the webhooks' commits to queue behind. Claiming still takes what is there."""
    from sqlalchemy import event

    from marketplace.minting.worker import MintWorker

    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split(None, 1)[0].upper())

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert _worker("idle")._claim() == []
        assert MintWorker(chain=_IdleChain(), name="idle-mint")._claim_and_write_ahead() is None
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements and set(statements) == {"SELECT"}, statements
    ids = _paid_purchases(3)
    assert [p.id for p in _worker("busy")._claim()] == ids


class _IdleChain:
    """What the mint worker asks of the chain before it claims (fees, chain id, a primed signer): no node needed."""

    class signer:  # noqa: N801 - stands for the client's `signer` attribute
        @staticmethod
        def prime() -> None:
            return None

    def fees(self) -> dict:
        return {"maxFeePerGas": 1, "maxPriorityFeePerGas": 1}

    def chain_id(self) -> int:
        return 31337
