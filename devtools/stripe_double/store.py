"""The double's state: checkout sessions, payment intents, charges, refunds and events, in memory.

Every public method takes the one lock, so API requests, hosted-page actions and the expiry thread can run
concurrently. Objects are stored as the JSON dicts Stripe would send and handed out as deep copies.
Events are stored and handed to `on_event` (the webhook dispatcher) as they happen.
"""

from __future__ import annotations

import copy
import fnmatch
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devtools.stripe_double import errors
from devtools.stripe_double import params as p
from devtools.stripe_double.connect import ConnectStore
from devtools.stripe_double.ids import NO_REQUEST, RequestContext, new_id
from devtools.stripe_double.params import created_matches as _created_matches
from devtools.stripe_double.params import matches as _matches

DEFAULT_EMAIL = "buyer@example.com"
DEFAULT_NAME = "Test Buyer"


@dataclass(frozen=True)
class Decline:
    """How Stripe declines one of its test cards: the error `code`, the issuer's `decline_code`, the message."""

    code: str
    decline_code: str
    message: str


GENERIC_DECLINE = Decline("card_declined", "generic_decline", "Your card was declined.")
# Stripe's test cards (https://docs.stripe.com/testing#declined-payments): the number decides what happens.
SUCCEEDING_CARDS = {"4242424242424242", "4000056655665556", "5555555555554444", "2223003122003222",
                    "378282246310005"}
DECLINING_CARDS = {
    "4000000000000002": GENERIC_DECLINE,
    "4000000000009995": Decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": Decline("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": Decline("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": Decline("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": Decline("processing_error", "processing_error",
                                "An error occurred while processing your card. Try again in a little bit."),
}
LIVE_CARD_IN_TEST_MODE = Decline(
    "card_declined", "test_mode_live_card", "Your card was declined. Your request was in test mode, but used a non "
    "test card. For a list of valid test cards, visit: https://stripe.com/docs/testing.")


def card_outcome(number: str) -> Decline | None:
    """None: the card pays; else how it is declined. Raises ValueError for a number that is not a card number
    (Checkout says so on the page before anything reaches Stripe's API)."""
    digits = "".join(ch for ch in number if not ch.isspace())
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not _luhn(digits):
        raise ValueError("Your card number is invalid.")
    if digits in SUCCEEDING_CARDS:
        return None
    return DECLINING_CARDS.get(digits, LIVE_CARD_IN_TEST_MODE)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


# Which fields of which objects `expand[]` can replace by the object they name.
EXPANDABLE = {
    "checkout.session": {"payment_intent", "line_items"},
    "payment_intent": {"latest_charge"},
    "charge": {"payment_intent"},
    "refund": {"charge", "payment_intent"},
    "transfer": {"destination", "source_transaction"},
    "transfer_reversal": {"transfer"},
}
_PREFIXES = {"cs_": "sessions", "pi_": "payment_intents", "ch_": "charges", "re_": "refunds", "evt_": "events",
             "acct_": "accounts", "tr_": "transfers", "trr_": "reversals"}


class Store(ConnectStore):
    def __init__(
        self,
        *,
        public_url: str,
        api_version: str,
        on_event: Callable[[dict[str, Any]], None] = lambda event: None,
        pending_webhooks: Callable[[str], int] = lambda event_id: 0,
    ) -> None:
        self.public_url = public_url.rstrip("/")
        self.api_version = api_version
        self._on_event = on_event
        self._pending_webhooks = pending_webhooks
        self._lock = threading.RLock()
        self.clock_offset = 0
        self._clear()

    def _clear(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.session_extra: dict[str, dict[str, Any]] = {}  # line items, product data, payment_intent_data
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self._clear_connect()

    def reset(self) -> None:
        with self._lock:
            self._clear()
            self.clock_offset = 0

    # -- time ---------------------------------------------------------------------------------------------------

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def advance_clock(self, seconds: int) -> int:
        """Move the double's clock forward (like a Stripe test clock); returns the new `now`."""
        with self._lock:
            self.clock_offset += max(0, int(seconds))
            return self.now()

    # -- checkout sessions --------------------------------------------------------------------------------------

    def create_checkout_session(self, raw: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        expand = p.expand(raw)
        with self._lock:
            now = self.now()
            values = p.checkout_session_create(raw, now=now)
            session_id = new_id("cs_test_a1", 56)
            line_items = [self._line_item(item, now) for item in values["line_items"]]
            session = {
                "id": session_id,
                "object": "checkout.session",
                "after_expiration": None,
                "allow_promotion_codes": None,
                "amount_subtotal": values["amount_total"],
                "amount_total": values["amount_total"],
                "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
                "billing_address_collection": None,
                "cancel_url": values["cancel_url"],
                "client_reference_id": values["client_reference_id"],
                "client_secret": None,
                "consent": None,
                "consent_collection": None,
                "created": now,
                "currency": values["currency"],
                "custom_fields": [],
                "customer": None,
                "customer_creation": "if_required",
                "customer_details": None,
                "customer_email": values["customer_email"],
                "discounts": [],
                "expires_at": values["expires_at"],
                "invoice": None,
                "livemode": False,
                "locale": values["locale"],
                "metadata": values["metadata"],
                "mode": "payment",
                "payment_intent": None,
                "payment_link": None,
                "payment_method_collection": "if_required",
                "payment_method_types": values["payment_method_types"],
                "payment_status": "unpaid",
                "phone_number_collection": {"enabled": False},
                "recovered_from": None,
                "shipping_address_collection": None,
                "shipping_cost": None,
                "shipping_options": [],
                "status": "open",
                "submit_type": values["submit_type"],
                "subscription": None,
                "success_url": values["success_url"],
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "ui_mode": "hosted",
                "url": f"{self.public_url}/pay/{session_id}",
            }
            self.sessions[session_id] = session
            self.session_extra[session_id] = {
                "line_items": line_items,
                "products": [item["product"] for item in values["line_items"]],
                "payment_intent_data": values["payment_intent_data"],
                "awaiting_async_result": False,
            }
            return self._render(session, expand)

    def _line_item(self, item: dict[str, Any], now: int) -> dict[str, Any]:
        return {
            "id": new_id("li_"),
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": item["amount_total"],
            "amount_tax": 0,
            "amount_total": item["amount_total"],
            "currency": item["currency"],
            "description": item["product"]["name"],
            "metadata": item["metadata"],
            "price": {
                "id": new_id("price_"),
                "object": "price",
                "active": False,
                "billing_scheme": "per_unit",
                "created": now,
                "currency": item["currency"],
                "custom_unit_amount": None,
                "livemode": False,
                "lookup_key": None,
                "metadata": {},
                "nickname": None,
                "product": new_id("prod_", 14),
                "recurring": None,
                "tax_behavior": "unspecified",
                "tiers_mode": None,
                "transform_quantity": None,
                "type": "one_time",
                "unit_amount": item["unit_amount"],
                "unit_amount_decimal": str(item["unit_amount"]),
            },
            "quantity": item["quantity"],
        }

    def retrieve_checkout_session(self, session_id: str, expand: list[str]) -> dict[str, Any]:
        with self._lock:
            return self._render(self._session(session_id), expand)

    def list_checkout_sessions(self, raw: dict[str, Any]) -> dict[str, Any]:
        p.check_keys(raw, prefix="", allowed={"limit", "starting_after", "ending_before", "expand", "created",
                                               "payment_intent", "status", "customer", "payment_link",
                                               "subscription", "customer_details", "customer_account"})
        with self._lock:
            items = [s for s in reversed(self.sessions.values()) if _matches(s, raw, (
                "payment_intent", "status", "customer", "payment_link", "subscription"))]
            if raw.get("customer_details"):
                email = p.as_dict(raw["customer_details"], "customer_details").get("email")
                items = [s for s in items if (s.get("customer_details") or {}).get("email") == email]
            return self._page(items, "/v1/checkout/sessions", raw, "checkout.session")

    def list_line_items(self, session_id: str, raw: dict[str, Any]) -> dict[str, Any]:
        p.check_keys(raw, prefix="", allowed={"limit", "starting_after", "ending_before", "expand"})
        with self._lock:
            self._session(session_id)
            items = list(self.session_extra[session_id]["line_items"])
            return self._page(items, f"/v1/checkout/sessions/{session_id}/line_items", raw, "item")

    def expire_checkout_session(self, session_id: str, ctx: RequestContext, expand: list[str] = ()) -> dict:
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise errors.StripeError(
                    f"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has "
                    f"a status of \"{session['status']}\".", param="session")
            self._expire(session, ctx)
            return self._render(session, list(expand))

    def expire_due_sessions(self) -> list[str]:
        """Expire every open session past its `expires_at` (the background check and the clock helper)."""
        with self._lock:
            now = self.now()
            due = [s for s in self.sessions.values() if s["status"] == "open" and s["expires_at"] <= now]
            for session in due:
                self._expire(session, NO_REQUEST)
            return [s["id"] for s in due]

    def _expire(self, session: dict[str, Any], ctx: RequestContext) -> None:
        session["status"] = "expired"
        session["url"] = None
        pi = self.payment_intents.get(session["payment_intent"] or "")
        if pi is not None and pi["status"] == "requires_payment_method":
            pi["status"] = "canceled"
            pi["canceled_at"] = self.now()
            pi["cancellation_reason"] = "abandoned"
            self._emit("payment_intent.canceled", pi, ctx)
        self._emit("checkout.session.expired", session, ctx)

    # -- the hosted page ----------------------------------------------------------------------------------------

    def hosted_view(self, session_id: str) -> dict[str, Any]:
        """What the hosted checkout page shows: the session, its products and its line items."""
        with self._lock:
            session = self._session(session_id)
            extra = self.session_extra[session_id]
            return copy.deepcopy({"session": session, "products": extra["products"],
                                  "line_items": extra["line_items"]})

    def pay(self, session_id: str, *, delayed: bool = False) -> dict[str, Any]:
        """The customer pays. `delayed` simulates a delayed-notification method (SEPA Debit): the session completes
        with payment_status "unpaid" and the outcome comes later from `settle_delayed_payment`."""
        with self._lock:
            session = self._open_session(session_id)
            pi = self._payment_intent_for(session)
            email = session["customer_email"] or DEFAULT_EMAIL
            if delayed:
                charge = self._new_charge(pi, method="sepa_debit", status="pending", email=email)
                self._emit("charge.pending", charge, NO_REQUEST)
                pi.update(status="processing", latest_charge=charge["id"], payment_method=charge["payment_method"],
                          last_payment_error=None, payment_method_types=["sepa_debit"])
                self._emit("payment_intent.processing", pi, NO_REQUEST)
                self.session_extra[session_id]["awaiting_async_result"] = True
            else:
                charge = self._new_charge(pi, method="card", status="succeeded", email=email)
                self._emit("charge.succeeded", charge, NO_REQUEST)
                pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=charge["id"],
                          payment_method=charge["payment_method"], last_payment_error=None)
                self._emit("payment_intent.succeeded", pi, NO_REQUEST)
            session.update(status="complete", payment_status="unpaid" if delayed else "paid", url=None,
                           customer_details=_customer_details(email))
            self._emit("checkout.session.completed", session, NO_REQUEST)
            return copy.deepcopy(session)

    def decline(self, session_id: str, decline: Decline = GENERIC_DECLINE, *, last4: str = "0002") -> dict[str, Any]:
        """The customer's card is declined: a failed charge, the PaymentIntent back to requires_payment_method with
        the decline as its `last_payment_error` (type card_error), `payment_intent.payment_failed`; the session
        stays open so the customer may try again."""
        with self._lock:
            session = self._open_session(session_id)
            pi = self._payment_intent_for(session)
            charge = self._new_charge(pi, method="card", status="failed", email=session["customer_email"] or
                                      DEFAULT_EMAIL, decline=decline, last4=last4)
            self._emit("charge.failed", charge, NO_REQUEST)
            pi.update(status="requires_payment_method", latest_charge=charge["id"], payment_method=None,
                      last_payment_error=self._card_error(charge, decline))
            self._emit("payment_intent.payment_failed", pi, NO_REQUEST)
            return copy.deepcopy(session)

    def cancel(self, session_id: str) -> dict[str, Any]:
        """The customer leaves through the cancel link: nothing changes (the session expires later)."""
        with self._lock:
            return copy.deepcopy(self._session(session_id))

    def settle_delayed_payment(self, session_id: str, outcome: str, ctx: RequestContext) -> dict[str, Any]:
        if outcome not in ("succeeded", "failed"):
            raise errors.StripeError("Invalid outcome: must be one of succeeded or failed",
                                     code="parameter_invalid_string", param="outcome")
        with self._lock:
            session = self._session(session_id)
            extra = self.session_extra[session_id]
            if session["status"] != "complete" or not extra["awaiting_async_result"]:
                raise errors.StripeError(
                    "This Checkout Session has no delayed payment awaiting a result (pay it with "
                    "POST /pay/{id}/pay?async=1 first).", param="session")
            extra["awaiting_async_result"] = False
            pi = self.payment_intents[session["payment_intent"]]
            charge = self.charges[pi["latest_charge"]]
            if outcome == "succeeded":
                charge.update(status="succeeded", paid=True, balance_transaction=new_id("txn_"),
                              outcome=_outcome("succeeded"))
                self._emit("charge.succeeded", charge, ctx)
                pi.update(status="succeeded", amount_received=pi["amount"])
                self._emit("payment_intent.succeeded", pi, ctx)
                session["payment_status"] = "paid"
                self._emit("checkout.session.async_payment_succeeded", session, ctx)
            else:
                charge.update(status="failed", captured=False, amount_captured=0, failure_code="debit_not_authorized",
                              failure_message="The customer notified their bank that this payment was unauthorized.",
                              outcome=_outcome("failed"))
                self._emit("charge.failed", charge, ctx)
                pi.update(status="requires_payment_method", payment_method=None, last_payment_error={
                    "charge": charge["id"], "code": "debit_not_authorized", "message": charge["failure_message"],
                    "type": "invalid_request_error"})
                self._emit("payment_intent.payment_failed", pi, ctx)
                self._emit("checkout.session.async_payment_failed", session, ctx)
            return copy.deepcopy(session)

    def _session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise errors.resource_missing("checkout.session", session_id, "session")
        return session

    def _open_session(self, session_id: str) -> dict[str, Any]:
        session = self._session(session_id)
        if session["status"] != "open":
            raise errors.StripeError(f"This Checkout Session is no longer open (status: {session['status']}).",
                                     param="session")
        if session["expires_at"] <= self.now():
            self._expire(session, NO_REQUEST)
            raise errors.StripeError("This Checkout Session has expired.", param="session")
        return session

    def _payment_intent_for(self, session: dict[str, Any]) -> dict[str, Any]:
        """Since API version 2022-08-01 Checkout creates the PaymentIntent when the customer first confirms."""
        existing = self.payment_intents.get(session["payment_intent"] or "")
        if existing is not None:
            return existing
        pi_data = self.session_extra[session["id"]]["payment_intent_data"]
        pi_id = new_id("pi_")
        pi = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{pi_id}_secret_{new_id('', 25)}",
            "confirmation_method": "automatic",
            "created": self.now(),
            "currency": session["currency"],
            "customer": None,
            "description": pi_data["description"],
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": dict(pi_data["metadata"]),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_options": {},
            "payment_method_types": list(session["payment_method_types"]),
            "processing": None,
            "receipt_email": pi_data["receipt_email"],
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "source": None,
            "statement_descriptor": pi_data["statement_descriptor"],
            "statement_descriptor_suffix": pi_data["statement_descriptor_suffix"],
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": pi_data["transfer_group"],
        }
        self.payment_intents[pi_id] = pi
        session["payment_intent"] = pi_id
        self._emit("payment_intent.created", pi, NO_REQUEST)
        return pi

    def _new_charge(self, pi: dict[str, Any], *, method: str, status: str, email: str,
                    decline: Decline = GENERIC_DECLINE, last4: str | None = None) -> dict[str, Any]:
        now = self.now()
        succeeded = status == "succeeded"
        failed = status == "failed"
        if method == "card":
            details = {"type": "card", "card": {
                "brand": "visa", "checks": {"address_line1_check": None, "address_postal_code_check": None,
                                            "cvc_check": "fail" if failed and decline.code == "incorrect_cvc" else "pass"},
                "country": "LU", "exp_month": 12, "exp_year": time.gmtime().tm_year + 3,
                "fingerprint": new_id("", 16), "funding": "credit",
                "last4": last4 or ("0002" if failed else "4242"),
                "network": "visa", "three_d_secure": None, "wallet": None}}
        else:
            details = {"type": "sepa_debit", "sepa_debit": {
                "bank_code": "37040044", "branch_code": "", "country": "DE", "fingerprint": new_id("", 16),
                "last4": "3000", "mandate": new_id("mandate_")}}
        charge = {
            "id": new_id("ch_"),
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": 0 if failed else pi["amount"],
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": new_id("txn_") if succeeded else None,
            "billing_details": {"address": {"city": None, "country": "LU", "line1": None, "line2": None,
                                            "postal_code": None, "state": None},
                                "email": email, "name": DEFAULT_NAME, "phone": None},
            "calculated_statement_descriptor": "STRIPE DOUBLE",
            "captured": not failed,
            "created": now,
            "currency": pi["currency"],
            "customer": None,
            "description": pi["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": decline.code if failed else None,
            "failure_message": decline.message if failed else None,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(pi["metadata"]),
            "on_behalf_of": None,
            "outcome": _outcome(status, decline.decline_code),
            "paid": succeeded,
            "payment_intent": pi["id"],
            "payment_method": new_id("pm_"),
            "payment_method_details": details,
            "receipt_email": pi["receipt_email"],
            "receipt_number": None,
            "receipt_url": None,
            "refunded": False,
            "review": None,
            "shipping": None,
            "source_transfer": None,
            "statement_descriptor": pi["statement_descriptor"],
            "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
            "status": status,
            "transfer_data": None,
            "transfer_group": pi["transfer_group"],
        }
        self.charges[charge["id"]] = charge
        return charge

    def _card_error(self, charge: dict[str, Any], decline: Decline) -> dict[str, Any]:
        """A PaymentIntent's `last_payment_error` after a card decline, as Stripe sends it: the error with the
        PaymentMethod that was declined."""
        card = charge["payment_method_details"]["card"]
        return {
            "charge": charge["id"], "code": decline.code, "decline_code": decline.decline_code,
            "doc_url": f"https://stripe.com/docs/error-codes/{decline.code.replace('_', '-')}",
            "message": decline.message, "param": None,
            "payment_method": {
                "id": charge["payment_method"], "object": "payment_method", "allow_redisplay": "unspecified",
                "billing_details": copy.deepcopy(charge["billing_details"]),
                "card": {"brand": card["brand"], "checks": dict(card["checks"]), "country": card["country"],
                         "display_brand": card["brand"], "exp_month": card["exp_month"],
                         "exp_year": card["exp_year"], "fingerprint": card["fingerprint"],
                         "funding": card["funding"], "generated_from": None, "last4": card["last4"],
                         "networks": {"available": [card["network"]], "preferred": None},
                         "three_d_secure_usage": {"supported": True}, "wallet": None},
                "created": charge["created"], "customer": None, "livemode": False, "metadata": {}, "type": "card",
            },
            "type": "card_error",
        }

    # -- payment intents, charges, refunds ----------------------------------------------------------------------

    def retrieve_payment_intent(self, pi_id: str, expand: list[str]) -> dict[str, Any]:
        with self._lock:
            pi = self.payment_intents.get(pi_id)
            if pi is None:
                raise errors.resource_missing("payment_intent", pi_id, "intent")
            return self._render(pi, expand)

    def retrieve_charge(self, charge_id: str, expand: list[str]) -> dict[str, Any]:
        with self._lock:
            charge = self.charges.get(charge_id)
            if charge is None:
                raise errors.resource_missing("charge", charge_id, "charge")
            return self._render(charge, expand)

    def create_refund(self, raw: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        expand = p.expand(raw)
        values = p.refund_create(raw)
        with self._lock:
            charge = self._refundable_charge(values["payment_intent"], values["charge"])
            remaining = charge["amount_captured"] - charge["amount_refunded"]
            if remaining <= 0:
                raise errors.StripeError(f"Charge {charge['id']} has already been refunded.",
                                         code="charge_already_refunded")
            amount = values["amount"] if values["amount"] is not None else remaining
            if amount > remaining:
                raise errors.StripeError(
                    f"Refund amount ({p.format_amount(amount, charge['currency'])}) is greater than unrefunded "
                    f"amount on charge ({p.format_amount(remaining, charge['currency'])})",
                    code="amount_too_large", param="amount")
            refund = {
                "id": new_id("re_"),
                "object": "refund",
                "amount": amount,
                "balance_transaction": new_id("txn_"),
                "charge": charge["id"],
                "created": self.now(),
                "currency": charge["currency"],
                "destination_details": {"card": {"reference": None, "reference_status": "pending",
                                                 "reference_type": "acquirer_reference_number", "type": "refund"},
                                        "type": "card"},
                "metadata": values["metadata"],
                "payment_intent": charge["payment_intent"],
                "reason": values["reason"],
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": "succeeded",
                "transfer_reversal": None,
            }
            self.refunds[refund["id"]] = refund
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            self._emit("refund.created", refund, ctx)
            self._emit("charge.refunded", charge, ctx, previous_attributes=previous)
            return self._render(refund, expand)

    def _refundable_charge(self, pi_id: str | None, charge_id: str | None) -> dict[str, Any]:
        charge = None
        if charge_id is not None:
            charge = self.charges.get(charge_id)
            if charge is None:
                raise errors.resource_missing("charge", charge_id, "charge", status=400)
        if pi_id is not None:
            pi = self.payment_intents.get(pi_id)
            if pi is None:
                raise errors.resource_missing("payment_intent", pi_id, "payment_intent", status=400)
            if charge is not None and charge["payment_intent"] != pi_id:
                raise errors.StripeError(f"Charge {charge_id} does not belong to PaymentIntent {pi_id}.",
                                         param="charge")
            if pi["status"] != "succeeded" or not pi["latest_charge"]:
                raise errors.StripeError(
                    f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                    code="charge_not_refundable", param="payment_intent")
            charge = charge or self.charges[pi["latest_charge"]]
        assert charge is not None
        if charge["status"] != "succeeded":
            raise errors.StripeError(f"Charge {charge['id']} has not succeeded and cannot be refunded.",
                                     code="charge_not_refundable", param="charge")
        return charge

    def retrieve_refund(self, refund_id: str, expand: list[str]) -> dict[str, Any]:
        with self._lock:
            refund = self.refunds.get(refund_id)
            if refund is None:
                raise errors.resource_missing("refund", refund_id, "id")
            return self._render(refund, expand)

    def list_refunds(self, raw: dict[str, Any]) -> dict[str, Any]:
        p.check_keys(raw, prefix="", allowed={"limit", "starting_after", "ending_before", "expand", "created",
                                               "charge", "payment_intent"})
        with self._lock:
            items = [r for r in reversed(self.refunds.values()) if _matches(r, raw, ("charge", "payment_intent"))]
            return self._page(items, "/v1/refunds", raw, "refund")

    # -- events -------------------------------------------------------------------------------------------------

    def _emit(self, event_type: str, obj: dict[str, Any], ctx: RequestContext, *,
              previous_attributes: dict[str, Any] | None = None, account: str | None = None) -> None:
        """Record an event and hand it to the webhooks. `account`: a Connect event about that connected account
        (Stripe then sets the event's top-level `account`)."""
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        event = {
            "id": new_id("evt_"),
            "object": "event",
            **({"account": account} if account else {}),
            "api_version": self.api_version,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
            "type": event_type,
        }
        self.events[event["id"]] = event
        self._on_event(copy.deepcopy(event))

    def retrieve_event(self, event_id: str) -> dict[str, Any]:
        with self._lock:
            event = self.events.get(event_id)
            if event is None:
                raise errors.resource_missing("event", event_id, "id")
            return self._render(event, [])

    def list_events(self, raw: dict[str, Any]) -> dict[str, Any]:
        p.check_keys(raw, prefix="", allowed={"limit", "starting_after", "ending_before", "expand", "created",
                                               "type", "types", "delivery_success"})
        patterns = [raw["type"]] if raw.get("type") else []
        patterns += [str(t) for t in p.as_list(raw.get("types"), "types")]
        delivered = raw.get("delivery_success")
        with self._lock:
            items = [e for e in reversed(self.events.values())
                     if (not patterns or any(fnmatch.fnmatchcase(e["type"], pat) for pat in patterns))
                     and _created_matches(e, raw.get("created"))]
            if delivered in ("true", "false"):
                want = delivered == "true"
                items = [e for e in items if (self._pending_webhooks(e["id"]) == 0) == want]
            return self._page(items, "/v1/events", raw, "event")

    def events_in_order(self) -> list[dict[str, Any]]:
        """Every event, oldest first (for /_double/events)."""
        with self._lock:
            return [self._render(e, []) for e in self.events.values()]

    def objects(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy({
                "now": self.now(), "clock_offset": self.clock_offset,
                "checkout_sessions": list(self.sessions.values()),
                "payment_intents": list(self.payment_intents.values()),
                "charges": list(self.charges.values()), "refunds": list(self.refunds.values()),
                **self._connect_objects(),
            })

    # -- rendering: expand and lists ----------------------------------------------------------------------------

    def _render(self, obj: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        if out.get("object") == "event":
            out["pending_webhooks"] = self._pending_webhooks(out["id"])
        for path in expand:
            self._expand(out, path.split("."), path)
        return out

    def _expand(self, obj: dict[str, Any], parts: list[str], full: str) -> None:
        field, rest = parts[0], parts[1:]
        if field not in EXPANDABLE.get(obj.get("object", ""), set()):
            raise errors.StripeError(f"This property cannot be expanded ({full}).", param="expand")
        if field == "line_items":
            items = self.session_extra[obj["id"]]["line_items"]
            obj["line_items"] = {"object": "list", "data": copy.deepcopy(items), "has_more": False,
                                 "url": f"/v1/checkout/sessions/{obj['id']}/line_items"}
            return
        value = obj.get(field)
        if isinstance(value, str):
            table = getattr(self, _PREFIXES.get(value[: value.find("_") + 1], ""), {})
            if value in table:
                value = obj[field] = copy.deepcopy(table[value])
        if rest and isinstance(value, dict):
            self._expand(value, rest, full)

    def _page(self, items: list[dict[str, Any]], url: str, raw: dict[str, Any], kind: str) -> dict[str, Any]:
        """A Stripe list object over `items` (newest first), with limit / starting_after / ending_before."""
        page = p.list_page(raw)
        ids = [item["id"] for item in items]
        if page["starting_after"]:
            if page["starting_after"] not in ids:
                raise errors.resource_missing(kind, page["starting_after"], "starting_after", status=400)
            items = items[ids.index(page["starting_after"]) + 1:]
            window, has_more = items[: page["limit"]], len(items) > page["limit"]
        elif page["ending_before"]:
            if page["ending_before"] not in ids:
                raise errors.resource_missing(kind, page["ending_before"], "ending_before", status=400)
            items = items[: ids.index(page["ending_before"])]
            window, has_more = items[-page["limit"]:], len(items) > page["limit"]
        else:
            window, has_more = items[: page["limit"]], len(items) > page["limit"]
        expand = []
        for path in p.expand(raw):
            if not path.startswith("data."):
                raise errors.StripeError(f"This property cannot be expanded ({path}). You may want to try "
                                         f"expanding 'data.{path}' instead.", param="expand")
            expand.append(path[len("data."):])
        return {"object": "list", "data": [self._render(i, expand) for i in window], "has_more": has_more,
                "url": url}


def _customer_details(email: str) -> dict[str, Any]:
    return {"address": {"city": None, "country": "LU", "line1": None, "line2": None, "postal_code": None,
                        "state": None},
            "email": email, "name": DEFAULT_NAME, "phone": None, "tax_exempt": "none", "tax_ids": []}


def _outcome(status: str, reason: str = "generic_decline") -> dict[str, Any] | None:
    if status == "succeeded":
        return {"network_status": "approved_by_network", "reason": None, "risk_level": "normal", "risk_score": 20,
                "seller_message": "Payment complete.", "type": "authorized"}
    if status == "failed":
        return {"network_status": "declined_by_network", "reason": reason, "risk_level": "normal",
                "risk_score": 20, "seller_message": "The bank did not return any further details with this decline."
                if reason == "generic_decline" else "The bank returned the decline code `" + reason + "`.",
                "type": "issuer_declined"}
    return None
