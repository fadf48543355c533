"""Payouts without the network: a Stripe stand-in with Stripe's idempotency (the same key, the same object), and
sales fabricated in the database (the ledger booked by the payments service itself)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from sqlmodel import Session, select

from marketplace.accounts.models import Account
from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.integrations.stripe.gateway import ConnectedAccount, PaymentProviderError
from marketplace.payments import service as payments_service
from marketplace.payments import webhooks as payments_webhooks
from marketplace.payments.models import Purchase
from marketplace.payouts import webhooks as payouts_webhooks
from marketplace.payouts.models import Payout, PayoutAccount
from marketplace.payouts.worker import PayoutWorker


@dataclass
class FakeStripe:
    """What the payout worker asks of Stripe, recorded; idempotency keys replay the first answer."""

    transfers: dict[str, dict] = field(default_factory=dict)  # id -> transfer
    reversals: dict[str, dict] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, ConnectedAccount] = field(default_factory=dict)
    refuse_reversals: bool = False
    calls: list[str] = field(default_factory=list)

    def latest_charge(self, payment_intent: str) -> str:
        self.calls.append("latest_charge")
        return "ch_" + payment_intent.removeprefix("pi_")

    def create_connected_account(self, *, account_id: int, email: str, country: str = "LU") -> ConnectedAccount:
        key = f"connect-account-{account_id}"
        if key not in self.by_key:
            self.by_key[key] = f"acct_{account_id:04d}"
            self.accounts[self.by_key[key]] = ConnectedAccount(self.by_key[key], False, False, ("external_account",))
        return self.accounts[self.by_key[key]]

    def retrieve_connected_account(self, stripe_account_id: str) -> ConnectedAccount:
        return self.accounts[stripe_account_id]

    def create_account_link(self, *, stripe_account_id: str, refresh_url: str, return_url: str) -> str:
        return f"https://connect.example/setup/{stripe_account_id}?return={return_url}"

    def create_transfer(self, *, amount_cents, currency, destination, transfer_group, source_transaction,
                        idempotency_key, metadata) -> str:
        self.calls.append("transfer")
        if idempotency_key not in self.by_key:
            transfer_id = f"tr_{len(self.transfers) + 1}"
            self.transfers[transfer_id] = {"id": transfer_id, "amount": amount_cents, "currency": currency,
                                               "destination": destination, "transfer_group": transfer_group,
                                               "source_transaction": source_transaction, "metadata": metadata,
                                               "amount_reversed": 0}
            self.by_key[idempotency_key] = transfer_id
        return self.by_key[idempotency_key]

    def reverse_transfer(self, *, transfer_id, amount_cents, idempotency_key, metadata) -> str:
        self.calls.append("reversal")
        if self.refuse_reversals:
            raise PaymentProviderError("Stripe refused the request: insufficient funds in the connected account")
        if idempotency_key not in self.by_key:
            reversal_id = f"trr_{len(self.reversals) + 1}"
            self.reversals[reversal_id] = {"id": reversal_id, "transfer": transfer_id, "amount": amount_cents}
            self.transfers[transfer_id]["amount_reversed"] += amount_cents
            self.by_key[idempotency_key] = reversal_id
        return self.by_key[idempotency_key]

    def by_destination(self) -> dict[str, int]:
        sums: dict[str, int] = {}
        for transfer in self.transfers.values():
            sums[transfer["destination"]] = sums.get(transfer["destination"], 0) + transfer["amount"] \
                - transfer["amount_reversed"]
        return sums


class Market:
    """Creators, their connected accounts, and sales booked like the delivery worker books them."""

    def __init__(self, stripe: FakeStripe) -> None:
        self.stripe = stripe
        self.events = 0
        payouts_webhooks.register()

    def creators(self, n: int) -> list[int]:
        with Session(db.get_engine()) as session:
            people = [Account(email=f"c{i}-{uuid.uuid4().hex[:12]}@example.lu", display_name=f"C{i}", role="creator",
                              password_hash="x") for i in range(n)]
            session.add_all(people)
            session.commit()
            return [p.id for p in people]

    def buyer(self) -> int:
        with Session(db.get_engine()) as session:
            self.buyers = getattr(self, "buyers", 0) + 1
            buyer = Account(email=f"b{self.buyers}-{uuid.uuid4().hex[:12]}@example.lu", display_name="B", role="buyer",
                            password_hash="x")
            session.add(buyer)
            session.commit()
            return buyer.id

    def sale(self, shares: list[tuple[int, int]], amount_cents: int, fee_bps: int = 1000) -> int:
        """A delivered sale of a work of these creators (uploader first), booked by the payments service."""
        buyer = self.buyer()
        with Session(db.get_engine()) as session:
            work = Work(title="W", discipline="design", license="CC0-1.0", price_cents=amount_cents,
                        creator_id=shares[0][0], status="minted", media_cid="bafkreia", media_mime="image/png",
                        media_kind="image", media_size=1, media_sha256="0" * 64, token_id=str(buyer))
            session.add(work)
            session.flush()
            purchase = Purchase(work_id=work.id, buyer_id=buyer, status="delivered", amount_cents=amount_cents,
                                wallet_address="0x" + "22" * 20, stripe_payment_intent_id=f"pi_{work.id}")
            session.add(purchase)
            session.flush()
            payments_service.book_sale(session, purchase=purchase, shares=shares, fee_bps=fee_bps)
            session.commit()
            return purchase.id

    def refund(self, purchase_id: int) -> str:
        """Stripe's charge.refunded for the purchase, through the webhook handler."""
        with Session(db.get_engine()) as session:
            purchase = session.get(Purchase, purchase_id)
            return self.event("charge.refunded", {"id": f"ch_{purchase.work_id}", "object": "charge",
                                                  "payment_intent": purchase.stripe_payment_intent_id,
                                                  "amount": purchase.amount_cents,
                                                  "amount_refunded": purchase.amount_cents})

    def event(self, event_type: str, obj: dict, *, created: int = 1_700_000_000, event_id: str | None = None,
              sender=None) -> str:
        self.events += 1
        event = {"id": event_id or f"evt_{uuid.uuid4().hex}", "type": event_type, "created": created,
                 "data": {"object": obj}}
        with Session(db.get_engine()) as session:
            return payments_webhooks.handle_stripe_event(session=session, event=event, fee_bps=1000, sender=sender)

    def onboard(self, account_id: int, *, enabled: bool = True, created: int = 1_700_000_000) -> str:
        """The creator's connected account, then Stripe's account.updated after onboarding."""
        from marketplace.payouts import service as payouts_service

        with Session(db.get_engine()) as session:
            account = session.get(Account, account_id)
            payouts_service.start_onboarding(session=session, account=account, gateway=self.stripe,
                                             public_base_url="http://testserver")
            stripe_id = payouts_service.payout_account(session, account_id).stripe_account_id
        return self.account_updated(stripe_id, enabled=enabled, created=created)

    def account_updated(self, stripe_id: str, *, enabled: bool, created: int, event_id: str | None = None,
                        due: tuple[str, ...] = ()) -> str:
        return self.event("account.updated", {
            "id": stripe_id, "object": "account", "details_submitted": True, "payouts_enabled": enabled,
            "requirements": {"currently_due": list(due), "past_due": []}}, created=created, event_id=event_id)


def payouts() -> list[Payout]:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(Payout).order_by(Payout.id)).all())


def stripe_id_of(account_id: int) -> str:
    with Session(db.get_engine()) as session:
        return session.exec(select(PayoutAccount.stripe_account_id).where(
            PayoutAccount.account_id == account_id)).one()


def drain(worker: PayoutWorker) -> None:
    """Run the worker until it has nothing left to do (bounded)."""
    for _ in range(20):
        if not worker.run_once():
            return
    raise AssertionError("the payout worker never went idle")


@pytest.fixture
def stripe() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def market(db_url, stripe) -> Market:
    return Market(stripe)


@pytest.fixture
def worker(stripe) -> PayoutWorker:
    return PayoutWorker(gateway=stripe, name="payout-test")


@pytest.fixture
def shop(make_live):
    """The payments tests' live shop (the app over HTTP, the Stripe double, anvil, IPFS)."""
    from tests.payments.conftest import Shop

    return Shop(make_live())
