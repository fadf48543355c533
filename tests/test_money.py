"""The split of an amount between creators by shares: exact to the cent, by largest remainder, ties to the first."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from marketplace.core.money import BPS_WHOLE, allocate, fee_of, resale_split, vat_included


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


# ---- VAT included in a price (receipts)
@given(gross=st.integers(min_value=0, max_value=10**12), rate=st.integers(0, BPS_WHOLE))
def test_vat_included_net_plus_vat_is_the_price_and_net_is_rounded_half_up(gross, rate):
    net, vat = vat_included(gross, rate)
    assert net + vat == gross
    assert net >= 0 and vat >= 0
    exact = Fraction(gross * BPS_WHOLE, BPS_WHOLE + rate)
    assert exact - Fraction(1, 2) < net <= exact + Fraction(1, 2)  # the nearest cent, a half going up
    if exact - int(exact) == Fraction(1, 2):
        assert net == int(exact) + 1
    # the VAT is the rate on the net but for the net's rounding: vat - net * rate = -(net - exact) * (1 + rate)
    assert abs(vat - Fraction(net * rate, BPS_WHOLE)) <= Fraction(BPS_WHOLE + rate, 2 * BPS_WHOLE)


@given(net=st.integers(min_value=0, max_value=10**9), rate=st.integers(0, BPS_WHOLE))
def test_vat_included_finds_the_net_of_a_price_made_from_it(net, rate):
    """A gross made as net + VAT rounded half up gives that net back whenever the rate leaves a cent's room."""
    gross = net + (2 * net * rate + BPS_WHOLE) // (2 * BPS_WHOLE)
    found, vat = vat_included(gross, rate)
    assert found + vat == gross
    assert abs(found - net) <= 1


def test_vat_worked_examples():
    assert vat_included(2500, 1700) == (2137, 363)  # 25.00 / 1.17 = 21.3675... -> 21.37
    assert vat_included(117, 1700) == (100, 17)
    assert vat_included(0, 1700) == (0, 0)
    assert vat_included(1, 1700) == (1, 0)  # 0.8547 -> 1
    assert vat_included(999, 0) == (999, 0)
    assert vat_included(3, 5000) == (2, 1)  # 3 / 1.5 = 2 exactly
    assert vat_included(5, 10000) == (3, 2)  # 2.5: the half goes up
    with pytest.raises(ValueError):
        vat_included(-1, 1700)
    with pytest.raises(ValueError):
        vat_included(100, 10001)


@given(price=st.integers(min_value=0, max_value=10**9), royalty_bps=st.integers(0, 5000),
       fee_bps=st.integers(0, 5000), shares=share_lists())
@example(price=1001, royalty_bps=1000, fee_bps=1000, shares=[(0, 7000), (1, 3000)])
def test_a_resale_reconciles_seller_plus_royalties_plus_fee_equal_the_price(price, royalty_bps, fee_bps, shares):
    royalty = price * royalty_bps // BPS_WHOLE  # what royaltyInfo answers: rounded down
    seller, royalties, fee = resale_split(price, royalty, fee_bps, shares)
    assert fee == fee_of(price, fee_bps)
    assert seller + sum(cents for _, cents in royalties) + fee == price
    assert sum(cents for _, cents in royalties) == royalty
    assert seller >= 0 and fee >= 0 and all(cents >= 0 for _, cents in royalties)
    assert royalties == allocate(royalty, shares)


def test_resale_worked_example_and_refusals():
    # 10.01 EUR, a 10 % royalty (100 cents, rounded down) 70/30, a 10 % fee (100): the seller keeps 801
    assert resale_split(1001, 100, 1000, [("anna", 7000), ("luc", 3000)]) == (801, [("anna", 70), ("luc", 30)], 100)
    # 1.03 EUR, royalty 10 cents split 70/30 = 7/3, fee 10: seller 83
    assert resale_split(103, 10, 1000, [("anna", 7000), ("luc", 3000)]) == (83, [("anna", 7), ("luc", 3)], 10)
    # 11 cents of royalty 70/30: 7.7 / 3.3 -> 8 / 3 (largest remainder)
    assert resale_split(1000, 11, 0, [("anna", 7000), ("luc", 3000)])[1] == [("anna", 8), ("luc", 3)]
    with pytest.raises(ValueError):
        resale_split(100, 95, 1000, [("anna", BPS_WHOLE)])
    with pytest.raises(ValueError):
        resale_split(-1, 0, 1000, [("anna", BPS_WHOLE)])
