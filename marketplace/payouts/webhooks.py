"""Stripe's Connect events, through the payments webhook's hook (payments records each event id once and runs these
in its transaction): `account.updated` (the connected account's state), `transfer.created` / `transfer.reversed`
(a transfer of ours, confirmed)."""

from __future__ import annotations

from sqlmodel import Session

from marketplace.integrations.stripe.gateway import ConnectedAccount
from marketplace.mail.outbox import Sender
from marketplace.payments import webhooks as payments_webhooks
from marketplace.payouts import service as payouts_service

HANDLED_EVENTS = ("account.updated", "transfer.created", "transfer.reversed")


def account_updated(session: Session, event: dict, sender: Sender | None = None) -> tuple[str, int | None]:
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(obj.get("id"), str):
        return "not an account", None
    created = event.get("created")
    return payouts_service.apply_account_update(session, ConnectedAccount.from_stripe(obj),
                                                stripe_time=created if isinstance(created, int) else 0), None


def transfer_event(session: Session, event: dict, sender: Sender | None = None) -> tuple[str, int | None]:
    obj = (event.get("data") or {}).get("object") or {}
    return payouts_service.confirm_from_event(session, obj, event["type"], sender=sender)


def register() -> None:
    """Wire the handlers into the payments webhook (marketplace.services calls this once per process)."""
    payments_webhooks.register_event_handler("account.updated", account_updated)
    payments_webhooks.register_event_handler("transfer.created", transfer_event)
    payments_webhooks.register_event_handler("transfer.reversed", transfer_event)
    payments_webhooks.wake_after_events(payouts_service.PAYOUT_WORKER)  # an account enabled, a refund booked
