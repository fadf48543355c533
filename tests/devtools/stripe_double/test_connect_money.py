"""The double's Connect arithmetic, property-tested on the store itself (in process, no HTTP): whatever mix of
charges, transfers, reversals and payouts, every cent is somewhere and the limits hold.

- platform available + every connected balance + every payout = every succeeded charge (to the cent);
- the transfers from one charge never exceed its amount; reversals never exceed their transfer;
- no connected balance is ever negative; a refused operation changes nothing.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from devtools.stripe_double import errors
from devtools.stripe_double.ids import RequestContext
from devtools.stripe_double.store import Store

CTX = RequestContext()

operation = st.one_of(
    st.tuples(st.just("transfer"), st.integers(0, 2), st.integers(0, 3), st.integers(-5, 6000)),
    st.tuples(st.just("reverse"), st.integers(0, 30), st.one_of(st.none(), st.integers(-5, 6000))),
    st.tuples(st.just("payout"), st.integers(0, 2), st.one_of(st.none(), st.integers(1, 6000))),
)


def _store(charges: list[int]) -> tuple[Store, list[str], list[str]]:
    store = Store(public_url="http://127.0.0.1:9", api_version="2026-10-28.endive")
    accounts = []
    for i in range(3):
        account = store.create_account({"type": "express", "email": f"c{i}@example.lu",
                                        "capabilities": {"transfers": {"requested": "true"}}}, CTX)
        store.complete_onboarding(account["id"])
        accounts.append(account["id"])
    charge_ids = []
    for amount in charges:
        session = store.create_checkout_session({
            "mode": "payment", "success_url": "http://127.0.0.1:9/ok",
            "line_items": [{"quantity": "1", "price_data": {"currency": "eur", "unit_amount": str(amount),
                                                            "product_data": {"name": "work"}}}]}, CTX)
        store.pay(session["id"])
        charge_ids.append(store.payment_intents[store.sessions[session["id"]]["payment_intent"]]["latest_charge"])
    return store, accounts, charge_ids


def _amount(balance: dict) -> int:
    [entry] = balance["available"]
    return entry["amount"]


@example(charges=[2206], ops=[("transfer", 0, 0, 186), ("transfer", 0, 0, 599), ("transfer", 0, 1, 1421),
                              ("transfer", 0, 0, 1)])  # a source transfer after a sourceless one took the funds
@settings(max_examples=60, deadline=None)
@given(charges=st.lists(st.integers(50, 5000), min_size=1, max_size=4), ops=st.lists(operation, max_size=30))
def test_every_cent_is_accounted_for_and_the_limits_hold(charges, ops):
    store, accounts, charge_ids = _store(charges)
    transfers: list[str] = []
    for op in ops:
        before = store.objects()
        try:
            if op[0] == "transfer":
                _, who, which, amount = op
                source = charge_ids[which] if which < len(charge_ids) else None
                params = {"amount": str(amount), "currency": "eur", "destination": accounts[who]}
                if source:
                    params["source_transaction"] = source
                transfers.append(store.create_transfer(params, CTX)["id"])
            elif op[0] == "reverse" and transfers:
                _, which, amount = op
                params = {} if amount is None else {"amount": str(amount)}
                store.create_reversal(transfers[which % len(transfers)], params, CTX)
            elif op[0] == "payout":
                _, who, amount = op
                store.pay_out(accounts[who], amount)
        except errors.StripeError:
            after = store.objects()
            assert {k: v for k, v in after.items() if k != "now"} == {k: v for k, v in before.items()
                                                                          if k != "now"}

        platform = _amount(store.balance(None))
        connected = [_amount(store.balance(a)) for a in accounts]
        paid_out = sum(po["amount"] for po in store.payouts.values())
        assert platform + sum(connected) + paid_out == sum(charges)
        assert all(c >= 0 for c in connected) and platform >= 0
        for charge in charge_ids:
            sent = sum(t["amount"] for t in store.transfers.values() if t["source_transaction"] == charge)
            assert sent <= store.charges[charge]["amount_captured"]
        for transfer in store.transfers.values():
            reversed_ = sum(r["amount"] for r in store.reversals.values() if r["transfer"] == transfer["id"])
            assert transfer["amount_reversed"] == reversed_ <= transfer["amount"]
            assert transfer["reversed"] == (reversed_ == transfer["amount"])
