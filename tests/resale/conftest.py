"""Resale tests reuse the payments' live shop (the app, the Stripe double over HTTP, anvil, IPFS)."""

from tests.payments.conftest import shop  # noqa: F401  (the fixture)
