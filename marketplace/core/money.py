"""Money is integer cents. Splitting an amount between several people by shares, to the cent.

The rule (README, "Shares and rounding"): each person first gets the floor of `total * share / 10_000`; the cents
left over (fewer than the number of people) go one each to the largest remainders, ties going to whoever comes
first in the list (callers put the uploader first). The parts always sum exactly to the total, nobody gets a cent
more than their exact share rounded up, and nobody a cent less than it rounded down.

Prices are shown VAT included (`vat_included`): the net is the gross divided by (1 + rate), rounded half up to the
cent; the VAT is what is left (gross - net), so net + VAT is the price paid, to the cent.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

BPS_WHOLE = 10_000  # basis points in a whole: shares of a split sum to this

K = TypeVar("K", bound=Hashable)


def fee_of(amount_cents: int, fee_bps: int) -> int:
    """The platform's fee on an amount, rounded down (the creators never lose a cent to the fee's rounding)."""
    if amount_cents < 0 or not 0 <= fee_bps <= BPS_WHOLE:
        raise ValueError("the amount must be >= 0 and the fee between 0 and 10000 bps")
    return amount_cents * fee_bps // BPS_WHOLE


def vat_included(gross_cents: int, rate_bps: int) -> tuple[int, int]:
    """(net, vat) in a VAT-included price at `rate_bps` (1700 = 17 %). The rule: net = round half up of
    gross * 10000 / (10000 + rate) (exact integer arithmetic, no floats), vat = gross - net; so net + vat == gross
    always, and the VAT differs from net * rate / 10000 by at most (1 + rate / 10000) / 2 cents (the net's rounding)."""
    if gross_cents < 0 or not 0 <= rate_bps <= BPS_WHOLE:
        raise ValueError("the amount must be >= 0 and the VAT rate between 0 and 10000 bps")
    divisor = BPS_WHOLE + rate_bps
    net = (2 * gross_cents * BPS_WHOLE + divisor) // (2 * divisor)  # round half up
    return net, gross_cents - net


def allocate(total_cents: int, shares: Sequence[tuple[K, int]]) -> list[tuple[K, int]]:
    """`total_cents` split by `shares` ((who, basis points), summing to 10,000), by largest remainder; ties to the
    earlier entry. Returns (who, cents) in the order given; the cents sum to `total_cents`."""
    if total_cents < 0:
        raise ValueError("cannot split a negative amount")
    if not shares:
        raise ValueError("nobody to split between")
    if any(bps < 0 for _, bps in shares) or sum(bps for _, bps in shares) != BPS_WHOLE:
        raise ValueError("shares must be >= 0 and sum to 10000 basis points")
    if len({who for who, _ in shares}) != len(shares):
        raise ValueError("each person appears once in a split")
    floors = [total_cents * bps // BPS_WHOLE for _, bps in shares]
    remainders = [total_cents * bps % BPS_WHOLE for _, bps in shares]
    left = total_cents - sum(floors)
    # largest remainder first; a tie goes to the earlier entry (sorted() is stable)
    for index in sorted(range(len(shares)), key=lambda i: -remainders[i])[:left]:
        floors[index] += 1
    return [(who, cents) for (who, _), cents in zip(shares, floors, strict=True)]


def transfer_after_debt(credit_cents: int, owed_cents: int) -> int:
    """What a credit transfers when the creator owes `owed_cents` (refused reversals not yet paid back): the debt
    is paid first, in whole cents, so the transfer is max(0, credit - owed) and the credit's rest pays the debt.
    transfer + paid back == credit, always."""
    if credit_cents < 0 or owed_cents < 0:
        raise ValueError("a credit and a debt are >= 0")
    return max(0, credit_cents - owed_cents)


def reverse_by_shares(refunded_cents: int, paid_cents: int, transfers: Sequence[tuple[K, int]]) -> list[tuple[K, int]]:
    """What a refund of `refunded_cents` out of a purchase of `paid_cents` takes back of each creator's transfer:
    each transfer x refunded / paid, by largest remainder (ties to the earlier entry), so the parts sum to the
    refunded fraction of all transfers (rounded down to the cent: the creators never lose a cent to rounding) and
    nobody gives back more than was transferred. A full refund reverses every transfer exactly."""
    if paid_cents <= 0 or not 0 <= refunded_cents <= paid_cents:
        raise ValueError("the refund must be between 0 and the amount paid (> 0)")
    if any(cents < 0 for _, cents in transfers):
        raise ValueError("transfers are >= 0")
    if len({who for who, _ in transfers}) != len(transfers):
        raise ValueError("each person appears once")
    total = sum(cents for _, cents in transfers)
    back = total * refunded_cents // paid_cents
    if total == 0:
        return [(who, 0) for who, _ in transfers]
    floors = [cents * back // total for _, cents in transfers]
    remainders = [cents * back % total for _, cents in transfers]
    for index in sorted(range(len(transfers)), key=lambda i: -remainders[i])[:back - sum(floors)]:
        floors[index] += 1
    return [(who, cents) for (who, _), cents in zip(transfers, floors, strict=True)]


def resale_split(price_cents: int, royalty_cents: int, fee_bps: int,
                 creator_shares: Sequence[tuple[K, int]]) -> tuple[int, list[tuple[K, int]], int]:
    """A resale's money: (seller, [(creator, royalty cents)], platform fee), integer cents.

    The rule: the royalty is what the token's contract says (`royaltyInfo(tokenId, price)`, which rounds down); the
    platform's fee is `fee_of(price, fee_bps)`, rounded down like a first sale's; the seller gets the rest
    (price - royalty - fee). The royalty is split between the work's creators by their shares with `allocate`
    (largest remainder, ties to the earlier entry: the uploader). So seller + sum(royalties) + fee == price, always,
    and no part is negative (a royalty and fee larger than the price are refused)."""
    if price_cents < 0 or royalty_cents < 0:
        raise ValueError("the price and the royalty must be >= 0")
    fee = fee_of(price_cents, fee_bps)
    seller = price_cents - royalty_cents - fee
    if seller < 0:
        raise ValueError("the royalty and the platform fee exceed the price")
    return seller, allocate(royalty_cents, creator_shares), fee
