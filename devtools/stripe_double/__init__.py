"""A small Stripe-compatible server ("the Stripe double") for local runs and tests: Checkout Sessions, a hosted
payment page, PaymentIntents, Charges, Refunds, Events and signed webhooks, and Connect (Express accounts, a hosted
onboarding page, transfers, reversals, balances), over Stripe's wire format.

See README.md in this folder.
"""

from devtools.stripe_double.app import create_app
from devtools.stripe_double.runner import StripeDouble
from devtools.stripe_double.webhooks import sign as sign_webhook_payload

__all__ = ["StripeDouble", "create_app", "sign_webhook_payload"]
