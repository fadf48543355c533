"""Any sequence of co-created sales, refunds, refused reversals and late onboardings (hypothesis, on SQLite and
PostgreSQL): for every creator, what Stripe holds for them equals `paid_cents`, and available + pending + paid
equals their ledger balance, to the cent; no credit is ever transferred twice."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from marketplace.core import db
from marketplace.payouts import service as payouts_service
from marketplace.payouts.worker import PayoutWorker
from tests.payouts.conftest import FakeStripe, Market, drain, stripe_id_of
from tests.test_money import share_lists

steps = st.lists(st.one_of(
    st.tuples(st.just("sale"), st.integers(min_value=50, max_value=100_000), share_lists(max_people=3)),
    st.tuples(st.just("refund"), st.integers(min_value=0, max_value=30), st.booleans()),
    st.tuples(st.just("onboard"), st.integers(min_value=0, max_value=2), st.just(None)),
    st.tuples(st.just("work"), st.just(0), st.just(None)),
), min_size=1, max_size=12)


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=steps)
def test_every_sum_reconciles_to_the_cent(db_url, plan):
    stripe = FakeStripe()
    market = Market(stripe)
    creators = market.creators(3)
    market.onboard(creators[0])
    worker = PayoutWorker(gateway=stripe, name=f"reconcile-{id(plan)}")
    sold: list[int] = []
    refunded: set[int] = set()
    onboarded = {creators[0]}
    for kind, number, extra in plan:
        if kind == "sale":
            sold.append(market.sale([(creators[who], bps) for who, bps in extra], number))
        elif kind == "refund" and sold:
            purchase_id = sold[number % len(sold)]
            if purchase_id not in refunded:
                stripe.refuse_reversals = extra
                market.refund(purchase_id)
                refunded.add(purchase_id)
                drain(worker)
                stripe.refuse_reversals = False
        elif kind == "onboard" and creators[number] not in onboarded:
            market.onboard(creators[number])
            onboarded.add(creators[number])
        else:
            drain(worker)
    drain(worker)
    held_by_stripe = stripe.by_destination()
    keys = [t["metadata"]["payout_id"] for t in stripe.transfers.values()]
    assert len(keys) == len(set(keys))  # one transfer per payout row
    with Session(db.get_engine()) as session:
        for creator in creators:
            body = payouts_service.summary(session=session, account_id=creator)
            balance = sum(e.amount_cents for e in payouts_service.payments_service.ledger_of(
                session=session, account_id=creator, page=1, page_size=1000)[0])
            assert body.available_cents + body.pending_cents + body.paid_cents == balance
            assert body.pending_cents == 0  # no hold here
            at_stripe = held_by_stripe.get(stripe_id_of(creator), 0) if creator in onboarded else 0
            assert body.paid_cents == at_stripe
            if creator in onboarded:
                assert body.available_cents <= 0  # everything owed was transferred; < 0 only as a debt
            else:
                assert body.paid_cents == 0 and body.available_cents == balance
