"""What must hold after any fault: the checks every fault-matrix test ends with.

After a crash, a kill, an outage or a rewound chain, once the product has had time to recover:
- every paid purchase ends delivered or refunded (nothing stays paid, nothing is lost);
- nothing is minted twice and nothing is delivered twice (at most one mint Transfer per token, at most one
  delivered purchase per work, and each delivered purchase's token moved to its buyer once);
- no work says `minted` without its token on chain, owned where the database says, and the mint transaction it
  shows is on this chain and minted that token (its job confirmed);
- every delivered purchase's token is in its buyer's wallet on chain, moved there by the transaction it shows, and
  its work says sold;
- the ledger reconciles to the cent with the delivered and refunded sales;
- the product still answers.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from sqlmodel import Session, select
from web3 import Web3

from marketplace.catalog.models import SaleStatus, Work, WorkStatus
from marketplace.core import db
from marketplace.integrations.chain.client import TRANSFER_TOPIC, ZERO_ADDRESS, ChainClient
from marketplace.minting.models import MintJob, MintJobStatus
from marketplace.payments.models import LedgerEntry, Purchase, PurchaseStatus


def _topic_address(topic) -> str:
    return Web3.to_checksum_address(bytes(topic)[-20:])


def transfer_logs(chain: ChainClient, token_id: int) -> list[tuple[str, str]]:
    """Every (from, to) Transfer of a token on chain, oldest first."""
    logs = chain.w3.eth.get_logs({
        "address": chain.contract_address, "fromBlock": 0, "toBlock": "latest",
        "topics": [TRANSFER_TOPIC, None, None, "0x" + token_id.to_bytes(32, "big").hex()],
    })
    return [(_topic_address(log["topics"][1]), _topic_address(log["topics"][2])) for log in logs]


def wait_until_settled(*, timeout: float = 60.0, poll: float = 0.1,
                       also: Callable[[], bool] | None = None) -> None:
    """Wait until no purchase is paid-and-undelivered and no work is still minting (and `also()` holds)."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(db.get_engine()) as session:
            paid = session.exec(select(Purchase.id).where(Purchase.status == PurchaseStatus.paid)).all()
            minting = session.exec(select(Work.id).where(Work.status == WorkStatus.minting)).all()
        if not paid and not minting and (also is None or also()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled after {timeout}s: paid purchases {list(paid)}, "
                                 f"works still minting {list(minting)}")
        time.sleep(poll)


def assert_consistent(chain: ChainClient, *, health: Callable[[], int] | None = None) -> None:
    """Every invariant above, against the database the engine points at and the chain `chain` reads."""
    with Session(db.get_engine()) as session:
        works = list(session.exec(select(Work)).all())
        purchases = list(session.exec(select(Purchase)).all())
        ledger = list(session.exec(select(LedgerEntry)).all())
        jobs = {job.work_id: job.status for job in session.exec(select(MintJob)).all()}
    stuck = [p.id for p in purchases if p.status == PurchaseStatus.paid]
    assert not stuck, f"paid purchases neither delivered nor refunded: {stuck}"

    delivered_per_work = Counter((p.work_id, p.edition_number) for p in purchases
                                 if p.status == PurchaseStatus.delivered)
    twice = [w for w, n in delivered_per_work.items() if n > 1]
    assert not twice, f"works (editions) delivered more than once: {twice}"

    by_id = {w.id: w for w in works}
    for work in works:
        if work.token_id is None:
            continue
        logs = transfer_logs(chain, int(work.token_id))
        mints = [t for t in logs if t[0] == ZERO_ADDRESS]
        assert len(mints) <= 1, f"work {work.id} minted {len(mints)} times"
        if work.status == WorkStatus.minted:
            owner = chain.owner_of(int(work.token_id))
            assert owner is not None, f"work {work.id} is minted in the database but its token is not on chain"
            assert owner == work.owner_address, (
                f"work {work.id}: the database says {work.owner_address} owns it, the chain says {owner}")
            receipt = chain.get_receipt(work.mint_tx_hash) if work.mint_tx_hash else None
            assert receipt is not None and any(m.token_id == int(work.token_id) for m in receipt.minted), (
                f"work {work.id}: its mint transaction {work.mint_tx_hash} did not mint its token on this chain")
            assert jobs.get(work.id) == MintJobStatus.confirmed, (
                f"work {work.id} is minted but its mint job is {jobs.get(work.id)}")
    for purchase in purchases:
        if purchase.status != PurchaseStatus.delivered:
            continue
        work = by_id[purchase.work_id]
        edition = purchase.edition_number is not None  # its own token, minted to the buyer
        token_id = int(purchase.token_id if edition else work.token_id)
        assert chain.owner_of(token_id) == purchase.wallet_address, (
            f"purchase {purchase.id} is delivered but its token is not in the buyer's wallet")
        arrivals = [t for t in transfer_logs(chain, token_id)
                    if t[1] == purchase.wallet_address and (edition or t[0] != ZERO_ADDRESS)]
        assert len(arrivals) == 1, f"purchase {purchase.id}: the token reached the buyer {len(arrivals)} times"
        receipt = chain.get_receipt(purchase.delivery_tx_hash) if purchase.delivery_tx_hash else None
        assert receipt is not None and any(t.token_id == token_id and t.to == purchase.wallet_address
                                           for t in receipt.transfers), (
            f"purchase {purchase.id}: its delivery transaction {purchase.delivery_tx_hash} did not move the token "
            f"to the buyer on this chain")
        if not edition:
            assert work.sale_status == SaleStatus.sold, f"purchase {purchase.id} is delivered, its work {work.sale_status}"
    for work in works:
        if work.edition_size > 1:
            sold = sum(1 for p in purchases if p.work_id == work.id and p.status == PurchaseStatus.delivered)
            assert work.editions_sold == sold, f"work {work.id}: {work.editions_sold} editions sold, {sold} delivered"

    # the ledger reconciles to the cent: a delivered sale books its price; a refund after delivery nets it to zero
    booked = Counter()
    for entry in ledger:
        booked[entry.purchase_id] += entry.amount_cents
    for purchase in purchases:
        expected = purchase.amount_cents if purchase.status == PurchaseStatus.delivered else 0
        assert booked.get(purchase.id, 0) == expected, (
            f"purchase {purchase.id} ({purchase.status}): ledger {booked.get(purchase.id, 0)} cents, "
            f"expected {expected}")
    if health is not None:
        assert health() == 200, "the product no longer answers"


def assert_refunds_match(stripe_double) -> None:
    """Money back exactly when the database says so: every refunded purchase was refunded at Stripe (the double)
    once, in full, and no other payment was refunded."""
    with Session(db.get_engine()) as session:
        purchases = list(session.exec(select(Purchase)).all())
    refunds = list(stripe_double.state.store.refunds.values())
    per_payment = Counter(r["payment_intent"] for r in refunds)
    amounts = Counter()
    for r in refunds:
        amounts[r["payment_intent"]] += r["amount"]
    for purchase in purchases:
        pi = purchase.stripe_payment_intent_id
        n = per_payment.pop(pi, 0) if pi else 0
        if purchase.status == PurchaseStatus.refunded:
            assert n == 1, f"purchase {purchase.id} is refunded but Stripe made {n} refund(s)"
            assert amounts[pi] == purchase.amount_cents, (
                f"purchase {purchase.id}: {amounts[pi]} cents refunded of {purchase.amount_cents}")
        else:
            assert n == 0, f"purchase {purchase.id} ({purchase.status}) was refunded {n} time(s) at Stripe"
    assert not per_payment, f"refunds for payments no purchase knows: {dict(per_payment)}"


def wait_indexed_owner(token_id: int, owner: str, *, timeout: float = 30.0) -> None:
    """Wait until the app's chain indexer has read the token's latest transfer (to `owner`): the pages show
    owners from the index."""
    from marketplace.indexer import service as indexer_service

    deadline = time.monotonic() + timeout
    while True:
        with Session(db.get_engine()) as session:
            found = indexer_service.owner_of(session, token_id)
        if found == owner:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the index says token {token_id} is {found!r}'s, not {owner!r}'s")
        time.sleep(0.05)
