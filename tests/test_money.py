"""The split of an amount between creators by shares: exact to the cent, by largest remainder, ties to the first."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from marketplace.core.money import BPS_WHOLE, allocate, fee_of


@st.composite
def share_lists(draw, max_people: int = 12) -> list[tuple[int, int]]:
    """1..max_people people with shares (bps >= 0, some possibly 0) summing to 10,000."""
    people = draw(st.integers(min_value=1, max_value=max_people))
    cuts = sorted(draw(st.lists(st.integers(0, BPS_WHOLE), min_size=people - 1, max_size=people - 1)))
    bounds = [0, *cuts, BPS_WHOLE]
    return [(person, bounds[person + 1] - bounds[person]) for person in range(people)]


@given(total=st.integers(min_value=0, max_value=10**12), shares=share_lists())
def test_the_parts_sum_to_the_total_and_each_is_its_exact_share_rounded_down_or_up(total, shares):
    parts = allocate(total, shares)
    assert [who for who, _ in parts] == [who for who, _ in shares]
    assert sum(cents for _, cents in parts) == total
    for (_, bps), (_, cents) in zip(shares, parts, strict=True):
        exact = Fraction(total * bps, BPS_WHOLE)
        assert exact - 1 < cents < exact + 1
        assert cents >= 0


@given(total=st.integers(min_value=0, max_value=10**9), shares=share_lists())
@example(total=1, shares=[(0, 5000), (1, 5000)])  # ties: random share lists rarely make them
@example(total=2, shares=[(0, 3334), (1, 3333), (2, 3333)])
@example(total=7, shares=[(0, 2500), (1, 2500), (2, 2500), (3, 2500)])
def test_the_leftover_cents_go_to_the_largest_remainders_ties_to_the_earlier(total, shares):
    parts = allocate(total, shares)
    rounded_up = [i for i, ((_, bps), (_, cents)) in enumerate(zip(shares, parts, strict=True))
                  if cents > total * bps // BPS_WHOLE]
    remainder = [total * bps % BPS_WHOLE for _, bps in shares]
    for up in rounded_up:
        for other in range(len(shares)):
            if other in rounded_up:
                continue
            # whoever stayed at their floor has a smaller remainder, or an equal one and a later place
            assert remainder[other] < remainder[up] or (remainder[other] == remainder[up] and other > up)


@given(total=st.integers(min_value=0, max_value=10**9), fee_bps=st.integers(0, BPS_WHOLE), shares=share_lists())
def test_a_sale_reconciles_fee_plus_creators_parts_equal_the_price(total, fee_bps, shares):
    fee = fee_of(total, fee_bps)
    assert fee == total * fee_bps // BPS_WHOLE  # rounded down: a fraction of a cent stays with the creators
    assert fee + sum(cents for _, cents in allocate(total - fee, shares)) == total


def test_worked_examples():
    assert allocate(100, [("a", 5000), ("b", 3000), ("c", 2000)]) == [("a", 50), ("b", 30), ("c", 20)]
    # 1 cent between three equal-ish shares: the largest remainder (a tie) goes to the first
    assert allocate(1, [("uploader", 3334), ("b", 3333), ("c", 3333)]) == [("uploader", 1), ("b", 0), ("c", 0)]
    assert allocate(2, [("uploader", 3333), ("b", 3334), ("c", 3333)]) == [("uploader", 1), ("b", 1), ("c", 0)]
    assert allocate(899, [("a", 5000), ("b", 5000)]) == [("a", 450), ("b", 449)]
    assert allocate(0, [("a", 10_000)]) == [("a", 0)]
    assert fee_of(999, 1000) == 99  # 99.9 cents of fee: 99
    assert fee_of(2500, 1000) == 250


@pytest.mark.parametrize("shares", [[], [("a", 9999)], [("a", 5000), ("a", 5000)], [("a", 10_001), ("b", -1)]])
def test_a_bad_split_is_refused(shares):
    with pytest.raises(ValueError):
        allocate(100, shares)


def test_a_negative_amount_is_refused():
    with pytest.raises(ValueError):
        allocate(-1, [("a", 10_000)])
    with pytest.raises(ValueError):
        fee_of(-1, 100)
