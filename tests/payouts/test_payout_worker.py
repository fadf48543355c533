"""The payout worker on both databases: creators' shares become Stripe transfers exactly once, refunds reverse them
by the same shares, a creator onboarding later is paid what accrued, account.updated is applied in order once."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, select

from marketplace.core import db
from marketplace.payments.models import LedgerEntry, Purchase
from marketplace.payouts import service as payouts_service
from marketplace.payouts.models import Payout, PayoutAccount
from marketplace.payouts.worker import PayoutWorker
from tests.payouts.conftest import FakeStripe, Market, drain, payouts, stripe_id_of


def summary(account_id: int):
    with Session(db.get_engine()) as session:
        return payouts_service.summary(session=session, account_id=account_id)


def test_a_50_30_20_sale_ends_in_three_transfers_summing_to_the_creators_part(market: Market, stripe: FakeStripe,
                                                                               worker: PayoutWorker):
    up, co, mo = market.creators(3)
    for creator in (up, co, mo):
        assert market.onboard(creator) == "payouts enabled"
    purchase_id = market.sale([(up, 5000), (co, 3000), (mo, 2000)], 1003)  # 100 fee, 903 to split
    drain(worker)
    transfers = sorted(stripe.transfers.values(), key=lambda t: t["destination"])
    assert [(t["destination"], t["amount"]) for t in transfers] == [
        (stripe_id_of(up), 451), (stripe_id_of(co), 271), (stripe_id_of(mo), 181)]
    assert sum(t["amount"] for t in transfers) == 1003 - 100
    assert {t["transfer_group"] for t in transfers} == {f"purchase-{purchase_id}"}
    with Session(db.get_engine()) as session:
        charge = session.get(Purchase, purchase_id).stripe_charge_id
    assert charge and {t["source_transaction"] for t in transfers} == {charge}
    assert {t["currency"] for t in transfers} == {"EUR"}
    assert [p.status for p in payouts()] == ["paid"] * 3
    body = summary(up)
    assert (body.account_status, body.paid_cents, body.available_cents, body.pending_cents) == ("enabled", 451, 0, 0)
    assert [(t.amount_cents, t.purchase_id, t.status) for t in body.transfers] == [(451, purchase_id, "paid")]
    drain(worker)  # nothing more, ever
    assert len(stripe.transfers) == 3


def test_a_creator_onboarding_later_is_paid_what_accrued(market: Market, stripe: FakeStripe, worker: PayoutWorker):
    ready, late = market.creators(2)
    market.onboard(ready)
    first = market.sale([(ready, 6000), (late, 4000)], 1000)  # 900: 540 / 360
    second = market.sale([(late, 10_000)], 500)  # 450
    drain(worker)
    assert stripe.by_destination() == {stripe_id_of(ready): 540}
    body = summary(late)
    assert (body.account_status, body.available_cents, body.paid_cents) == ("none", 810, 0)
    assert market.onboard(late, enabled=False) == "account updated"  # onboarding, not enabled yet
    assert summary(late).account_status == "restricted"
    drain(worker)
    assert stripe_id_of(late) not in stripe.by_destination()
    assert market.account_updated(stripe_id_of(late), enabled=True, created=1_700_000_100) == "payouts enabled"
    drain(worker)
    assert stripe.by_destination()[stripe_id_of(late)] == 360 + 450
    assert {t["transfer_group"] for t in stripe.transfers.values()
            if t["destination"] == stripe_id_of(late)} == {f"purchase-{first}", f"purchase-{second}"}
    body = summary(late)
    assert (body.account_status, body.available_cents, body.paid_cents) == ("enabled", 0, 810)


class Killed(BaseException):
    """The process dies (not an error the worker handles)."""


def test_a_worker_killed_between_ledger_entry_and_transfer_makes_one_transfer(market: Market, stripe: FakeStripe):
    creator, = market.creators(1)
    market.onboard(creator)
    market.sale([(creator, 10_000)], 2000)

    class DiesAfterStripe(FakeStripe):
        def create_transfer(self, **kw):
            stripe.create_transfer(**kw)  # Stripe made it; the answer never arrives
            raise Killed()

    first = PayoutWorker(gateway=DiesAfterStripe(), name="first", lease_s=0.0)
    try:
        first.run_once()
    except Killed:
        pass
    [row] = payouts()
    assert (row.status, row.stripe_cents, row.attempts) == ("sending", 1800, 1)  # written ahead, never settled
    assert len(stripe.transfers) == 1
    second = PayoutWorker(gateway=stripe, name="second")
    drain(second)  # the lease (0 s) has passed: the second worker asks again with the same idempotency key
    assert len(stripe.transfers) == 1 and stripe.calls.count("transfer") == 2
    [row] = payouts()
    assert (row.status, row.stripe_transfer_id) == ("paid", "tr_1")
    assert summary(creator).paid_cents == 1800


def test_a_transfer_settled_by_stripes_event_after_a_crash_tells_its_creator_once(market: Market,
                                                                                    stripe: FakeStripe):
    """The worker dies after Stripe made the transfer; Stripe's transfer.created settles the row. The creator gets
    the payout notice then, as when the worker settles it, and only once (the worker finds the row settled)."""
    from marketplace.mail.models import Notice
    from marketplace.mail.outbox import Sender

    sender = Sender(mail_from="market@example.test", base_url="http://testserver")
    creator, = market.creators(1)
    market.onboard(creator)
    market.sale([(creator, 10_000)], 2000)

    class DiesAfterStripe(FakeStripe):
        def create_transfer(self, **kw):
            stripe.create_transfer(**kw)
            raise Killed()

    try:
        PayoutWorker(gateway=DiesAfterStripe(), name="first", lease_s=0.0, sender=sender).run_once()
    except Killed:
        pass
    [row] = payouts()
    [(transfer_id, transfer)] = stripe.transfers.items()
    created = {"id": transfer_id, "object": "transfer", "amount": transfer["amount"], "currency": "eur",
               "metadata": {"payout_id": str(row.id)}}
    assert market.event("transfer.created", created, sender=sender) == "transfer confirmed"
    drain(PayoutWorker(gateway=stripe, name="second", sender=sender))
    assert len(stripe.transfers) == 1
    with Session(db.get_engine()) as session:
        notices = session.exec(select(Notice).where(Notice.user_id == creator)).all()
    assert [n.kind for n in notices] == ["payout"]


def test_a_worker_killed_before_calling_stripe_makes_one_transfer(market: Market, stripe: FakeStripe):
    creator, = market.creators(1)
    market.onboard(creator)
    market.sale([(creator, 10_000)], 2000)

    class DiesBeforeStripe(FakeStripe):
        def create_transfer(self, **kw):
            raise Killed()

    try:
        PayoutWorker(gateway=DiesBeforeStripe(), name="first", lease_s=0.0).run_once()
    except Killed:
        pass
    drain(PayoutWorker(gateway=stripe, name="second"))
    assert [t["amount"] for t in stripe.transfers.values()] == [1800]


def test_a_refund_after_transfers_reverses_them_by_the_same_shares(market: Market, stripe: FakeStripe,
                                                                   worker: PayoutWorker):
    up, co, mo = market.creators(3)
    for creator in (up, co, mo):
        market.onboard(creator)
    purchase_id = market.sale([(up, 5000), (co, 3000), (mo, 2000)], 999)  # 900: 450 / 270 / 180
    drain(worker)
    assert market.refund(purchase_id) == "refunded"
    drain(worker)
    reversed_by = {stripe.transfers[r["transfer"]]["destination"]: r["amount"] for r in stripe.reversals.values()}
    assert reversed_by == {stripe_id_of(up): 450, stripe_id_of(co): 270, stripe_id_of(mo): 180}
    assert set(stripe.by_destination().values()) == {0}
    with Session(db.get_engine()) as session:
        kinds = sorted((e.entry_type, e.amount_cents) for e in session.exec(
            select(LedgerEntry).where(LedgerEntry.account_id == up)).all())
    assert kinds == [("refund_creator", -450), ("sale_creator", 450)]  # the ledger shows both
    body = summary(up)
    assert (body.paid_cents, body.available_cents) == (0, 0)
    assert sorted((t.amount_cents, t.status) for t in body.transfers) == [(-450, "reversed"), (450, "paid")]
    drain(worker)
    assert len(stripe.reversals) == 3


def test_a_refused_reversal_leaves_a_debt_that_later_earnings_pay_first(market: Market, stripe: FakeStripe,
                                                                        worker: PayoutWorker):
    creator, = market.creators(1)
    market.onboard(creator)
    refunded = market.sale([(creator, 10_000)], 1000)  # 900
    drain(worker)
    stripe.refuse_reversals = True
    market.refund(refunded)
    drain(worker)
    body = summary(creator)
    assert (body.available_cents, body.paid_cents) == (-900, 900)  # owed back
    stripe.refuse_reversals = False
    market.sale([(creator, 10_000)], 500)  # 450: all of it pays the debt
    drain(worker)
    assert len(stripe.transfers) == 1
    assert summary(creator).available_cents == -450
    market.sale([(creator, 10_000)], 1000)  # 900: 450 pays the rest, 450 is transferred
    drain(worker)
    assert sorted(t["amount"] for t in stripe.transfers.values()) == [450, 900]
    body = summary(creator)
    assert (body.available_cents, body.paid_cents) == (0, 1350)
    assert body.available_cents + body.paid_cents + body.pending_cents == 900 - 900 + 450 + 900


def test_a_refund_inside_the_hold_needs_no_reversal(market: Market, stripe: FakeStripe):
    creator, = market.creators(1)
    market.onboard(creator)
    held = PayoutWorker(gateway=stripe, name="held", hold_days=7)
    purchase_id = market.sale([(creator, 10_000)], 1000)
    drain(held)
    body = summary(creator)
    assert (body.pending_cents, body.available_cents, body.paid_cents) == (900, 0, 0)
    market.refund(purchase_id)
    drain(held)
    assert stripe.transfers == {} and stripe.reversals == {}
    assert [p.status for p in payouts()] == ["cancelled", "cancelled"]
    body = summary(creator)
    assert (body.pending_cents, body.available_cents, body.paid_cents) == (0, 0, 0)
    # a sale is transferred once its hold has passed (and not before)
    later = market.sale([(creator, 10_000)], 2000)
    drain(held)
    assert stripe.transfers == {}
    with Session(db.get_engine()) as session:
        row = session.exec(select(Payout).where(Payout.purchase_id == later)).one()
        session.exec(update(Payout).where(Payout.id == row.id).values(due_at=row.created_at))  # 7 days later
        session.commit()
    drain(held)
    assert [t["amount"] for t in stripe.transfers.values()] == [1800]


def test_duplicated_and_reordered_account_updates_change_nothing(market: Market, stripe: FakeStripe,
                                                                 worker: PayoutWorker):
    creator, = market.creators(1)
    market.onboard(creator, enabled=False, created=1_700_000_000)
    stripe_id = stripe_id_of(creator)
    assert market.account_updated(stripe_id, enabled=True, created=1_700_000_200, event_id="evt_on") \
        == "payouts enabled"
    # the same event again, and an older one arriving late
    assert market.account_updated(stripe_id, enabled=True, created=1_700_000_200, event_id="evt_on") == "duplicate"
    assert market.account_updated(stripe_id, enabled=False, created=1_700_000_100, due=("individual.id_number",)) \
        == "older than the state applied"
    with Session(db.get_engine()) as session:
        account = session.exec(select(PayoutAccount).where(PayoutAccount.account_id == creator)).one()
    assert (account.payouts_enabled, account.requirements_due, account.stripe_updated_at) == (True, "", 1_700_000_200)
    assert summary(creator).account_status == "enabled"
    # a newer one does apply: Stripe wants more, transfers wait
    assert market.account_updated(stripe_id, enabled=False, created=1_700_000_300, due=("individual.id_number",)) \
        == "account updated"
    body = summary(creator)
    assert (body.account_status, body.requirements_due) == ("restricted", ["individual.id_number"])
    market.sale([(creator, 10_000)], 1000)
    drain(worker)
    assert stripe.transfers == {}
    assert market.account_updated(stripe_id, enabled=True, created=1_700_000_400) == "payouts enabled"
    drain(worker)
    assert [t["amount"] for t in stripe.transfers.values()] == [900]


def test_an_unknown_account_update_is_recorded_and_ignored(market: Market):
    assert market.account_updated("acct_nobody", enabled=True, created=1) == "unknown account"


def test_racing_workers_ask_stripe_once_per_payout(market: Market, stripe: FakeStripe):
    import threading

    creators = market.creators(3)
    for creator in creators:
        market.onboard(creator)
    for amount in range(1000, 1040):
        market.sale([(creators[0], 5000), (creators[1], 3000), (creators[2], 2000)], amount)
    workers = [PayoutWorker(gateway=stripe, name=f"racer-{i}", batch_size=7) for i in range(4)]
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(worker: PayoutWorker) -> None:
        start.wait()
        try:
            drain(worker)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    rows = payouts()
    assert len(rows) == 120 and {p.status for p in rows} == {"paid"}
    assert stripe.calls.count("transfer") == 120 == len(stripe.transfers)  # nobody asked twice
    total = sum(amount - amount // 10 for amount in range(1000, 1040))
    assert sum(stripe.by_destination().values()) == total
