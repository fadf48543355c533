"""Stripe's events: each applied once per event id, as guarded transitions (deliveries are at least once, unordered)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import SaleStatus
from marketplace.core.db import utcnow
from marketplace.jobs import runner
from marketplace.mail.outbox import Sender
from marketplace.payments import service as payments_service
from marketplace.payments.models import Purchase, PurchaseKind, PurchaseStatus, StripeEvent

DELIVERY_WORKER = "deliver"  # the kind of the worker that delivers and refunds (delivery.DeliveryWorker)

HANDLED_EVENTS = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
)


# The hook other domains use for their own events (payments cannot import them; marketplace.services wires them):
# event type -> handler(session, event) -> (outcome, purchase id or None), run in the webhook's transaction, once
# per event id like the events above. Workers named in _WAKE_AFTER are woken after every applied event.
EventHandler = Callable[[Session, dict, Sender | None], tuple[str, int | None]]  # (session, event, sender)
_handlers: dict[str, EventHandler] = {}
_wake_after: set[str] = set()


def register_event_handler(event_type: str, handler: EventHandler) -> None:
    """Handle Stripe events of `event_type` (registering again replaces the handler)."""
    if event_type in HANDLED_EVENTS:
        raise ValueError(f"{event_type} is handled by payments")
    _handlers[event_type] = handler


def wake_after_events(kind: str) -> None:
    """Also wake the workers of `kind` after each applied event (a refund may owe them work)."""
    _wake_after.add(kind)


def handle_stripe_event(*, session: Session, event: dict, fee_bps: int, sender: Sender | None = None) -> str:
    """Apply one verified Stripe event, exactly once per event id. Returns what happened (for logs and tests).

    Deliveries are at least once and unordered: every change is a guarded transition from the states it may come
    from, so a duplicate or late event finds nothing to change. The chain work happens in the delivery worker; a
    call's budget has none, so its payment is booked here (the team's shares, `fee_bps` the platform's).
    """
    event_id, event_type = event["id"], event["type"]
    handler = _handlers.get(event_type)
    if event_type not in HANDLED_EVENTS and handler is None:
        return "ignored"  # nothing to record: no state depends on it
    seen = StripeEvent.__table__  # plain statements: this runs for every webhook
    if session.execute(select(seen.c.id).where(seen.c.id == event_id)).first() is not None:
        return "duplicate"
    obj = event.get("data", {}).get("object", {}) or {}
    if handler is not None:
        outcome, purchase_id = handler(session, event, sender)
    else:
        outcome, purchase_id = _apply_event(session, event_type, obj, fee_bps, sender)
    try:
        session.execute(insert(seen).values(id=event_id, type=event_type, purchase_id=purchase_id,
                                            outcome=outcome[:200], received_at=utcnow()))
        session.commit()
    except IntegrityError:  # the same event processed concurrently: the other one won, ours rolls back
        session.rollback()
        return "duplicate"
    runner.wake(DELIVERY_WORKER)  # a paid purchase to deliver, or a refund owed
    for kind in sorted(_wake_after):
        runner.wake(kind)
    return outcome


def _find_purchase_for_payment(session: Session, payment_intent: str | None) -> Purchase | None:
    if not payment_intent:
        return None
    return session.exec(select(Purchase).where(Purchase.stripe_payment_intent_id == payment_intent)).first()


def _find_purchase_for_session(session: Session, obj: dict):
    purchase = None
    if obj.get("id"):
        purchase = session.exec(select(Purchase).where(Purchase.stripe_session_id == obj["id"])).first()
    if purchase is None:
        ref = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("purchase_id")
        if ref and str(ref).isdigit():
            purchase = session.get(Purchase, int(ref))
            # a session id we recorded must match; a missing one (crash before we stored it) is adopted
            if purchase is not None and purchase.stripe_session_id not in (None, obj.get("id")):
                purchase = None
    return purchase


def _apply_event(session: Session, event_type: str, obj: dict, fee_bps: int,
                 sender: Sender | None = None) -> tuple[str, int | None]:
    if event_type == "charge.refunded":
        purchase = _find_purchase_for_payment(session, obj.get("payment_intent"))
        if purchase is None:
            return "unknown payment", None
        payments_service.lock_and_reload(session, purchase)
        if obj.get("amount_refunded", 0) < obj.get("amount", 0):
            return "partial refund recorded", purchase.id
        was = purchase.status
        if payments_service.transition(
            session, purchase.id, from_=("pending", "paid", "delivered", "expired", "failed"),
            to=PurchaseStatus.refunded, refunded_at=utcnow(),
            failure_reason=purchase.refund_reason or purchase.failure_reason or "Refunded in Stripe",
        ):
            if purchase.call_id is not None:
                if was == PurchaseStatus.paid:  # the team was credited when it was paid
                    payments_service.record_call_refunded(session, purchase=purchase)
            elif was == PurchaseStatus.delivered:
                payments_service.book_refund_reversal(session, purchase=purchase)
            else:
                payments_service.refresh_sale_status(session, purchase.work_id)
            return "refunded", purchase.id
        return "already refunded", purchase.id

    purchase = _find_purchase_for_session(session, obj)
    if purchase is None:
        return "unknown checkout session", None
    payments_service.lock_and_reload(session, purchase)
    if purchase.stripe_session_id is None and obj.get("id"):
        purchase.stripe_session_id = obj["id"]
        session.add(purchase)

    if event_type == "checkout.session.expired":
        if payments_service.release_reservation(session, purchase,
                                                reason="The checkout session expired or was cancelled"):
            return "expired", purchase.id
        return f"no change ({purchase.status})", purchase.id

    if event_type == "checkout.session.async_payment_failed":
        if payments_service.release_reservation(session, purchase, reason="The payment failed",
                                                to=PurchaseStatus.failed):
            return "payment failed", purchase.id
        return f"no change ({purchase.status})", purchase.id

    # checkout.session.completed / async_payment_succeeded
    if obj.get("payment_status") != "paid":
        # an asynchronous payment method: keep the reservation until its result arrives
        session.exec(update(Purchase).where(Purchase.id == purchase.id, Purchase.status == "pending")
                     .values(expires_at=utcnow() + timedelta(days=14), updated_at=utcnow()))
        return "awaiting asynchronous payment", purchase.id
    pi = obj.get("payment_intent")
    if isinstance(pi, dict):
        pi = pi.get("id")
    amount, currency = obj.get("amount_total"), (obj.get("currency") or "").upper()
    if amount != purchase.amount_cents or currency != purchase.currency.upper():
        reason = (f"Amount mismatch: paid {amount} {currency}, expected {purchase.amount_cents} "
                  f"{purchase.currency.upper()}; refunding")
        payments_service.owe_refund(session, purchase.id, reason, payment_intent=pi)
        return "amount mismatch, refund owed", purchase.id
    if payments_service.transition(session, purchase.id, from_=("pending",), to=PurchaseStatus.paid,
                                   stripe_payment_intent_id=pi, paid_at=utcnow()):
        if purchase.call_id is not None:
            payments_service.record_call_paid(session, purchase=purchase, fee_bps=fee_bps, sender=sender)
        return "paid", purchase.id
    if purchase.status in ("expired", "failed"):
        # paid after we released the reservation (late or reordered events): take it back if nobody else has it
        try:
            with session.begin_nested():
                taken = payments_service.transition(session, purchase.id, from_=("expired", "failed"),
                                                    to=PurchaseStatus.paid, stripe_payment_intent_id=pi,
                                                    paid_at=utcnow(), failure_reason=None)
        except IntegrityError:  # the partial unique index: another buyer holds the work now
            taken = False
        if taken:
            if purchase.call_id is not None:
                payments_service.record_call_paid(session, purchase=purchase, fee_bps=fee_bps, sender=sender)
            elif purchase.kind == PurchaseKind.primary:  # a resale holds its listing, not the work
                catalog_service.set_sale_status(session, purchase.work_id, SaleStatus.reserved)
            return "paid (late)", purchase.id
        payments_service.owe_refund(session, purchase.id, "Another checkout held this work or call when this "
                                    "payment arrived", payment_intent=pi)
        return "paid too late, refund owed", purchase.id
    return f"no change ({purchase.status})", purchase.id
