"""The payout worker against the Stripe double over HTTP, through the real SDK (both databases): a worker killed
after Stripe made the transfer but before it recorded it leaves one transfer, not two, because the retry sends the
same idempotency key; a reversal the double refuses leaves the creator owing it."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session

from marketplace.accounts.models import Account
from marketplace.core import db
from marketplace.core.db import utcnow
from marketplace.integrations.stripe.gateway import StripeGateway
from marketplace.payments import service as payments_service
from marketplace.payments.models import Purchase
from marketplace.payouts import service as payouts_service
from marketplace.payouts.worker import PayoutWorker
from tests.payouts.conftest import Market, drain, payouts, stripe_id_of
from tests.plugins.live_fixtures import WEBHOOK_SECRET


class Killed(BaseException):
    """The process dies (not an error the worker handles)."""


@pytest.fixture
def gateway(stripe_double) -> StripeGateway:
    return StripeGateway(api_key=stripe_double.api_key, api_base=stripe_double.api_base,
                         webhook_secret=WEBHOOK_SECRET, max_network_retries=0)


def paid_at_the_double(stripe_double, gateway: StripeGateway, purchase_id: int, cents: int) -> str:
    """A Checkout Session paid with a test card on the double's hosted page; its payment intent."""
    session = gateway.create_checkout_session(
        purchase_id=purchase_id, reference={}, title="W", description="", image_url=None, amount_cents=cents,
        currency="EUR", customer_email="b@example.lu", success_url="http://testserver/ok",
        cancel_url="http://testserver/cancel", expires_at=utcnow() + timedelta(hours=1))
    paid = httpx.post(f"{stripe_double.public_url}/pay/{session.id}/pay", data={"card": "4242424242424242"},
                      timeout=10, follow_redirects=False)
    assert paid.status_code == 303, paid.text
    return gateway.retrieve_checkout_session(session.id).payment_intent


def test_a_worker_killed_after_stripe_made_the_transfer_leaves_one_transfer(db_url, stripe_double, gateway):
    market = Market(gateway)
    creator, = market.creators(1)
    with Session(db.get_engine()) as session:
        payouts_service.start_onboarding(session=session, account=session.get(Account, creator), gateway=gateway,
                                         public_base_url="http://testserver")
    stripe_double.complete_onboarding(stripe_id_of(creator))
    with Session(db.get_engine()) as session:
        payouts_service.refresh_account(session=session, account_id=creator, gateway=gateway)
    purchase_id = market.sale([(creator, 10_000)], 2000)
    intent = paid_at_the_double(stripe_double, gateway, purchase_id, 2000)
    with Session(db.get_engine()) as session:
        session.get(Purchase, purchase_id).stripe_payment_intent_id = intent
        session.commit()

    class DiesAfterStripe(StripeGateway):
        def create_transfer(self, **kw):
            super().create_transfer(**kw)  # the double made the transfer; the answer is lost with the process
            raise Killed()

    dying = DiesAfterStripe(api_key=stripe_double.api_key, api_base=stripe_double.api_base,
                            webhook_secret=WEBHOOK_SECRET, max_network_retries=0)
    try:
        PayoutWorker(gateway=dying, name="killed", lease_s=0.0).run_once()
    except Killed:
        pass
    [row] = payouts()
    assert row.status == "sending"
    drain(PayoutWorker(gateway=gateway, name="after-restart"))
    [row] = payouts()
    assert (row.status, row.stripe_cents) == ("paid", 1800)
    client = gateway._client
    transfers = list(client.v1.transfers.list(params={"destination": stripe_id_of(creator)}).data)
    assert [(t.id, t.amount, t.transfer_group) for t in transfers] == [
        (row.stripe_transfer_id, 1800, f"purchase-{purchase_id}")]
    assert transfers[0].source_transaction == client.v1.payment_intents.retrieve(intent).latest_charge
    balance = client.v1.balance.retrieve(options={"stripe_account": stripe_id_of(creator)})
    assert [(b.amount, b.currency) for b in balance.available] == [(1800, "eur")]

    # a refund whose reversal the double refuses: the creator owes it
    stripe_double.fail_next_reversal(stripe_id_of(creator))
    with Session(db.get_engine()) as session:
        payments_service.book_refund_reversal(session, purchase=session.get(Purchase, purchase_id))
        session.commit()
    drain(PayoutWorker(gateway=gateway, name="refunds"))
    with Session(db.get_engine()) as session:
        body = payouts_service.summary(session=session, account_id=creator)
    assert (body.available_cents, body.paid_cents) == (-1800, 1800)
    assert sorted(t.status for t in body.transfers) == ["failed", "paid"]
    assert client.v1.transfers.retrieve(row.stripe_transfer_id).amount_reversed == 0
