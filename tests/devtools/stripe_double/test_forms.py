"""Stripe's bracket form encoding, parsed back into nested values."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from stripe._encode import _api_encode

from devtools.stripe_double.errors import StripeError
from devtools.stripe_double.forms import parse_form


def test_what_the_sdk_encodes_parses_back_to_the_same_structure():
    params = {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 2500,
                                                      "product_data": {"name": "A & B", "images": ["http://x/1"]}}},
                       {"quantity": 2, "price_data": {"currency": "eur", "unit_amount": 100,
                                                      "product_data": {"name": "C"}}}],
        "metadata": {"purchase_id": "12"},
        "payment_method_types": ["card"],
        "expand": ["payment_intent"],
        "flag": True,
    }
    encoded = urlencode(list(_api_encode(params))).replace("%5B", "[").replace("%5D", "]")
    assert "line_items[0][price_data][currency]=eur" in encoded

    assert parse_form(encoded) == {
        "mode": "payment",
        "line_items": [{"quantity": "1", "price_data": {"currency": "eur", "unit_amount": "2500",
                                                        "product_data": {"name": "A & B", "images": ["http://x/1"]}}},
                       {"quantity": "2", "price_data": {"currency": "eur", "unit_amount": "100",
                                                        "product_data": {"name": "C"}}}],
        "metadata": {"purchase_id": "12"},
        "payment_method_types": ["card"],
        "expand": ["payment_intent"],
        "flag": "true",
    }


def test_empty_brackets_append_and_empty_values_are_kept():
    assert parse_form("expand[]=a&expand[]=b&metadata[note]=") == {"expand": ["a", "b"], "metadata": {"note": ""}}


@pytest.mark.parametrize("body", ["metadata=x&metadata[a]=b", "metadata[a]=b&metadata=x", "items[1]=x",
                                  "a]b=1"])
def test_malformed_nesting_is_a_400(body):
    with pytest.raises(StripeError) as err:
        parse_form(body)
    assert err.value.status == 400
