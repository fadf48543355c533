"""The payouts' arithmetic (core.money): reversals by shares and credits paying a debt first, exact to the cent."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.core.money import allocate, reverse_by_shares, transfer_after_debt
from tests.test_money import share_lists


@given(paid=st.integers(min_value=1, max_value=10**9), shares=share_lists(), data=st.data())
def test_a_reversal_by_shares_sums_to_the_refunded_fraction_and_never_exceeds_a_transfer(paid, shares, data):
    transfers = allocate(paid - paid // 10, shares)  # the creators' part of a sale, as the ledger books it
    refunded = data.draw(st.integers(min_value=0, max_value=paid))
    back = reverse_by_shares(refunded, paid, transfers)
    assert [who for who, _ in back] == [who for who, _ in transfers]
    total = sum(cents for _, cents in transfers)
    back_total = total * refunded // paid  # rounded down: the creators never lose a cent to rounding
    assert sum(cents for _, cents in back) == back_total
    for (_, sent), (_, cents) in zip(transfers, back, strict=True):
        assert 0 <= cents <= sent
        exact = Fraction(sent * back_total, total) if total else Fraction(0)  # this transfer's exact part
        assert exact - 1 < cents < exact + 1


@given(paid=st.integers(min_value=1, max_value=10**9), shares=share_lists())
def test_a_full_refund_reverses_every_transfer_exactly(paid, shares):
    transfers = allocate(paid, shares)
    assert reverse_by_shares(paid, paid, transfers) == transfers


@given(credit=st.integers(min_value=0, max_value=10**12), owed=st.integers(min_value=0, max_value=10**12))
def test_a_credit_pays_the_debt_first_and_transfers_the_rest(credit, owed):
    sent = transfer_after_debt(credit, owed)
    paid_back = credit - sent
    assert 0 <= sent <= credit
    assert paid_back == min(credit, owed)  # the debt first, never more than owed


def test_the_arithmetic_refuses_what_is_not_money():
    with pytest.raises(ValueError):
        transfer_after_debt(-1, 0)
    with pytest.raises(ValueError):
        reverse_by_shares(11, 10, [(1, 5)])
    with pytest.raises(ValueError):
        reverse_by_shares(1, 10, [(1, 5), (1, 5)])
    assert reverse_by_shares(5, 10, [(1, 0), (2, 0)]) == [(1, 0), (2, 0)]
