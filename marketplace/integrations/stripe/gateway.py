"""The one adapter to Stripe, through the real `stripe` SDK. In dev and tests only the API base, the key and the
webhook secret differ (the project's Stripe double); the code path is the production one.

Blocking: call it off the event loop.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe

from marketplace.core.exceptions import BadRequest, MarketplaceError, ServiceUnavailable

WEBHOOK_TOLERANCE_S = stripe.Webhook.DEFAULT_TOLERANCE  # 300 s, either way of now


class PaymentProviderError(MarketplaceError):
    """The payment provider refused the request."""

    status_code = 502
    code = "payment_provider_error"


class PaymentProviderUnavailable(ServiceUnavailable):
    """The payment provider is unreachable; nothing was changed."""

    code = "payment_provider_unavailable"


@dataclass(frozen=True)
class PaymentError:
    """Why the buyer's last payment attempt failed: the PaymentIntent's `last_payment_error` (a card decline is
    `type` card_error, `code` card_declined, `decline_code` generic_decline, insufficient_funds, ...)."""

    type: str
    code: str | None
    decline_code: str | None
    message: str

    @classmethod
    def from_stripe(cls, data: Any) -> PaymentError | None:
        if not isinstance(data, dict) or not data.get("type"):
            return None
        return cls(type=str(data["type"]), code=data.get("code"), decline_code=data.get("decline_code"),
                   message=str(data.get("message") or ""))


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str
    payment_status: str
    amount_total: int | None
    currency: str | None
    payment_intent: str | None
    expires_at: datetime | None
    client_reference_id: str | None
    metadata: dict[str, str]
    # only when retrieved with the PaymentIntent expanded: the last attempt's error, while it is the intent's state
    payment_error: PaymentError | None = None

    @classmethod
    def from_stripe(cls, obj: Any) -> "CheckoutSession":
        data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        pi = data.get("payment_intent")
        payment_error = None
        if isinstance(pi, dict):
            if pi.get("status") == "requires_payment_method":  # a later success or retry clears it
                payment_error = PaymentError.from_stripe(pi.get("last_payment_error"))
            pi = pi.get("id")
        expires = data.get("expires_at")
        return cls(
            id=data["id"],
            url=data.get("url"),
            status=data.get("status") or "",
            payment_status=data.get("payment_status") or "",
            amount_total=data.get("amount_total"),
            currency=data.get("currency"),
            payment_intent=pi,
            expires_at=datetime.fromtimestamp(expires, UTC) if expires else None,
            client_reference_id=data.get("client_reference_id"),
            metadata=dict(data.get("metadata") or {}),
            payment_error=payment_error,
        )


@dataclass(frozen=True)
class ConnectedAccount:
    """What the studio shows of a creator's Stripe connected account, as Stripe reports it."""

    id: str
    details_submitted: bool
    payouts_enabled: bool
    requirements_due: tuple[str, ...]

    @classmethod
    def from_stripe(cls, obj: Any) -> ConnectedAccount:
        data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        requirements = data.get("requirements") or {}
        due = [*(requirements.get("currently_due") or []), *(requirements.get("past_due") or [])]
        return cls(id=data["id"], details_submitted=bool(data.get("details_submitted")),
                   payouts_enabled=bool(data.get("payouts_enabled")),
                   requirements_due=tuple(dict.fromkeys(str(item) for item in due)))


def _signed_at(header: str) -> int | None:
    """The `t=` timestamp of a Stripe-Signature header (as the SDK reads it), or None."""
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class StripeGateway:
    def __init__(self, *, api_key: str, api_base: str, webhook_secret: str, max_network_retries: int = 2,
                 connect_webhook_secret: str | None = None) -> None:
        """`connect_webhook_secret`: the signing secret of a Connect webhook endpoint (its events, such as
        `account.updated` of the creators' connected accounts, come signed with it), if it is not `webhook_secret`."""
        self._client = stripe.StripeClient(
            api_key, base_addresses={"api": api_base.rstrip("/")}, max_network_retries=max_network_retries
        )
        self._webhook_secret = webhook_secret
        self._webhook_secrets = tuple(dict.fromkeys(s for s in (webhook_secret, connect_webhook_secret) if s))
        self.api_base = api_base

    def create_checkout_session(
        self,
        *,
        purchase_id: int,
        reference: dict[str, str],
        title: str,
        description: str,
        image_url: str | None,
        amount_cents: int,
        currency: str,
        customer_email: str,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
        locale: str = "auto",
    ) -> CheckoutSession:
        """`locale` is Stripe's (`auto`: the buyer's browser decides; `en`, `fr`, `de`, ...): the hosted page's
        language. `reference`: what is paid for, in the session's and the payment's metadata (`work_id` or
        `call_id`)."""
        product: dict[str, Any] = {"name": title[:250]}
        if description:
            product["description"] = description[:500]
        if image_url:
            product["images"] = [image_url]
        params = {
            "mode": "payment",
            "line_items": [{
                "quantity": 1,
                "price_data": {"currency": currency.lower(), "unit_amount": amount_cents, "product_data": product},
            }],
            "client_reference_id": str(purchase_id),
            "metadata": {"purchase_id": str(purchase_id), **reference},
            "payment_intent_data": {"metadata": {"purchase_id": str(purchase_id), **reference}},
            "customer_email": customer_email,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
            "locale": locale,
        }
        return CheckoutSession.from_stripe(self._call(
            lambda: self._client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": f"checkout-purchase-{purchase_id}"})))

    def retrieve_checkout_session(self, session_id: str, *, with_payment_error: bool = False) -> CheckoutSession:
        """The session; `with_payment_error` expands its PaymentIntent to read why the last attempt failed."""
        params = {"expand": ["payment_intent"]} if with_payment_error else None
        return CheckoutSession.from_stripe(self._call(
            lambda: self._client.v1.checkout.sessions.retrieve(session_id, params=params)))

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        return CheckoutSession.from_stripe(self._call(lambda: self._client.v1.checkout.sessions.expire(session_id)))

    def refund(self, *, purchase_id: int, payment_intent: str, reason: str) -> str:
        """Refund in full, idempotently (one refund per purchase, whatever the retries). Returns the refund id."""
        refund = self._call(lambda: self._client.v1.refunds.create(
            params={"payment_intent": payment_intent, "metadata": {"purchase_id": str(purchase_id),
                                                                   "reason": reason[:450]}},
            options={"idempotency_key": f"refund-purchase-{purchase_id}"},
        ))
        return refund.id

    # ------------------------------------------------------------ Connect (payouts to creators)
    def latest_charge(self, payment_intent: str) -> str | None:
        """The charge that captured a payment intent (`latest_charge`): what a transfer's source_transaction is."""
        intent = self._call(lambda: self._client.v1.payment_intents.retrieve(payment_intent)).to_dict()
        charge = intent.get("latest_charge")
        return charge.get("id") if isinstance(charge, dict) else charge

    def create_connected_account(self, *, account_id: int, email: str, country: str = "LU") -> ConnectedAccount:
        """An Express connected account for one creator, once (idempotency key per creator); Luxembourg by default,
        the marketplace's country (Stripe asks the creator for the rest on its onboarding page)."""
        params = {"type": "express", "country": country, "email": email,
                  "capabilities": {"transfers": {"requested": True}},
                  "business_profile": {"product_description": "Creative digital assets sold on the marketplace"},
                  "metadata": {"account_id": str(account_id)}}
        return ConnectedAccount.from_stripe(self._call(lambda: self._client.v1.accounts.create(
            params=params, options={"idempotency_key": f"connect-account-{account_id}"})))

    def retrieve_connected_account(self, stripe_account_id: str) -> ConnectedAccount:
        return ConnectedAccount.from_stripe(self._call(lambda: self._client.v1.accounts.retrieve(stripe_account_id)))

    def create_account_link(self, *, stripe_account_id: str, refresh_url: str, return_url: str) -> str:
        """A one-time link to Stripe's hosted onboarding (`account_onboarding`); returns its url."""
        link = self._call(lambda: self._client.v1.account_links.create(params={
            "account": stripe_account_id, "refresh_url": refresh_url, "return_url": return_url,
            "type": "account_onboarding"}))
        return link.url

    def create_transfer(self, *, amount_cents: int, currency: str, destination: str, transfer_group: str,
                        source_transaction: str | None, idempotency_key: str, metadata: dict[str, str]) -> str:
        """Move `amount_cents` of the platform's balance to a connected account; the same idempotency key returns
        the same transfer (a retry after a crash). Returns the transfer id."""
        params: dict[str, Any] = {"amount": amount_cents, "currency": currency.lower(), "destination": destination,
                                  "transfer_group": transfer_group, "metadata": metadata}
        if source_transaction:
            params["source_transaction"] = source_transaction
        transfer = self._call(lambda: self._client.v1.transfers.create(
            params=params, options={"idempotency_key": idempotency_key}))
        return transfer.id

    def reverse_transfer(self, *, transfer_id: str, amount_cents: int, idempotency_key: str,
                         metadata: dict[str, str]) -> str:
        """Take `amount_cents` of a transfer back (`transfers/{id}/reversals`). Returns the reversal id."""
        reversal = self._call(lambda: self._client.v1.transfers.reversals.create(
            transfer_id, params={"amount": amount_cents, "metadata": metadata},
            options={"idempotency_key": idempotency_key}))
        return reversal.id

    def ping(self) -> None:
        """A cheap authenticated read (the platform's balance): raises unless Stripe answers and accepts the key."""
        self._call(lambda: self._client.v1.balance.retrieve(options={"max_network_retries": 0}))

    def construct_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """Verify the Stripe-Signature over the raw body, signed within 300 s of now (before or after), and return
        the event as a dict.

        The SDK's own check (what `stripe.Webhook.construct_event` runs first; it refuses only timestamps too far in
        the past, so a signature dated in the future would stay replayable until then), the same tolerance ahead of
        now, then plain JSON: the handler reads the event as a dict, and building the SDK's object tree only to turn
        it back cost more than the rest."""
        if not signature:
            raise BadRequest("Missing Stripe-Signature header")
        try:
            for index, secret in enumerate(self._webhook_secrets):  # the account's endpoint, then Connect's
                try:
                    stripe.WebhookSignature.verify_header(payload, signature, secret, WEBHOOK_TOLERANCE_S)
                    break
                except stripe.SignatureVerificationError:
                    if index == len(self._webhook_secrets) - 1:
                        raise
            signed_at = _signed_at(signature)
            if signed_at is None or abs(time.time() - signed_at) > WEBHOOK_TOLERANCE_S:
                raise stripe.SignatureVerificationError(
                    f"Timestamp outside the tolerance zone ({signed_at})", signature, payload)
            event = json.loads(payload)
        except stripe.SignatureVerificationError as exc:
            raise BadRequest(f"Invalid Stripe signature: {exc.user_message or 'verification failed'}") from None
        except ValueError:
            raise BadRequest("Invalid webhook payload") from None
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
            raise BadRequest("Invalid webhook payload: not a Stripe event")
        return event

    @staticmethod
    def _call(fn):
        try:
            return fn()
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise PaymentProviderUnavailable(f"Stripe is unreachable: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            raise PaymentProviderError(f"Stripe refused the request: {exc.user_message or exc}") from exc
