"""The Stripe v1 HTTP API subset, on one catch-all route so that (like api.stripe.com) authentication comes first,
unknown URLs get Stripe's "Unrecognized request URL" error, and idempotency wraps every POST.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from devtools.stripe_double import params as p
from devtools.stripe_double.errors import StripeError
from devtools.stripe_double.forms import parse_form, parse_pairs
from devtools.stripe_double.store import RequestContext, new_id

if TYPE_CHECKING:
    from devtools.stripe_double.app import DoubleState

router = APIRouter()
log = logging.getLogger(__name__)

NO_KEY = ("You did not provide an API key. You need to provide your API key in the Authorization header, using "
          "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
          "for details, or we can help at https://support.stripe.com/.")
PUBLISHABLE_KEY = ("This API call cannot be made with a publishable API key. Please use a secret API key. You can "
                   "find a list of your API keys at https://dashboard.stripe.com/account/apikeys.")
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")


@dataclass
class Call:
    """One parsed API request, as the operation handlers see it."""

    params: dict[str, Any]
    ids: tuple[str, ...]
    ctx: RequestContext

    @property
    def account(self) -> str | None:
        """The `Stripe-Account` header: the connected account the platform acts for (None: the platform)."""
        return self.ctx.account

    @property
    def expand(self) -> list[str]:
        return p.expand(self.params)

    def only(self, *allowed: str) -> "Call":
        p.check_keys(self.params, prefix="", allowed=set(allowed))
        return self


Handler = Callable[["DoubleState", Call], dict[str, Any]]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
_ID = r"([A-Za-z0-9_]+)"
# Handlers that honour a `Stripe-Account` header; the others refuse it rather than act for the platform.
CONNECT_AWARE: set[Handler] = set()


def route(method: str, pattern: str, *, stripe_account: bool = False) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES.append((method, re.compile("^" + pattern.replace("{id}", _ID) + "$"), fn))
        if stripe_account:
            CONNECT_AWARE.add(fn)
        return fn
    return register


# -- operations -------------------------------------------------------------------------------------------------

@route("POST", "/v1/checkout/sessions")
def create_checkout_session(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.create_checkout_session(call.params, call.ctx)


@route("GET", "/v1/checkout/sessions")
def list_checkout_sessions(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.list_checkout_sessions(call.params)


@route("GET", "/v1/checkout/sessions/{id}")
def retrieve_checkout_session(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.retrieve_checkout_session(call.ids[0], call.only("expand").expand)


@route("GET", "/v1/checkout/sessions/{id}/line_items")
def list_line_items(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.list_line_items(call.ids[0], call.params)


@route("POST", "/v1/checkout/sessions/{id}/expire")
def expire_checkout_session(double: DoubleState, call: Call) -> dict[str, Any]:
    call.only("expand")
    return double.store.expire_checkout_session(call.ids[0], call.ctx, call.expand)


@route("GET", "/v1/payment_intents/{id}")
def retrieve_payment_intent(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.retrieve_payment_intent(call.ids[0], call.only("expand", "client_secret").expand)


@route("GET", "/v1/charges/{id}")
def retrieve_charge(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.retrieve_charge(call.ids[0], call.only("expand").expand)


@route("POST", "/v1/refunds")
def create_refund(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.create_refund(call.params, call.ctx)


@route("GET", "/v1/refunds")
def list_refunds(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.list_refunds(call.params)


@route("GET", "/v1/refunds/{id}")
def retrieve_refund(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.retrieve_refund(call.ids[0], call.only("expand").expand)


@route("GET", "/v1/events")
def list_events(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.list_events(call.params)


@route("GET", "/v1/events/{id}")
def retrieve_event(double: DoubleState, call: Call) -> dict[str, Any]:
    call.only("expand")
    return double.store.retrieve_event(call.ids[0])


# Connect ("separate charges and transfers"): connected accounts, account links, transfers, reversals, balance.

@route("POST", "/v1/accounts")
def create_account(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.create_account(call.params, call.ctx)


@route("GET", "/v1/accounts")
def list_accounts(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.list_accounts(call.params)


@route("GET", "/v1/accounts/{id}", stripe_account=True)
def retrieve_account(double: DoubleState, call: Call) -> dict[str, Any]:
    if call.account is not None and call.account != call.ids[0]:
        raise StripeError("The account in the URL is not the one in the Stripe-Account header.", status=403,
                          type="invalid_request_error", code="account_invalid")
    return double.store.retrieve_account(call.ids[0], call.only("expand").expand)


@route("GET", "/v1/account", stripe_account=True)
def retrieve_own_account(double: DoubleState, call: Call) -> dict[str, Any]:
    if call.account is None:
        raise StripeError("The Stripe double has no platform account object: call GET /v1/account with a "
                          "Stripe-Account header.", code="parameter_unknown")
    return double.store.retrieve_account(call.account, call.only("expand").expand)


@route("POST", "/v1/accounts/{id}")
def update_account(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.update_account(call.ids[0], call.params, call.ctx)


@route("POST", "/v1/account_links")
def create_account_link(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.create_account_link(call.params, call.ctx)


@route("POST", "/v1/transfers")
def create_transfer(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.create_transfer(call.params, call.ctx)


@route("GET", "/v1/transfers")
def list_transfers(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.list_transfers(call.params)


@route("GET", "/v1/transfers/{id}")
def retrieve_transfer(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.retrieve_transfer(call.ids[0], call.only("expand").expand)


@route("POST", "/v1/transfers/{id}")
def update_transfer(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.update_transfer(call.ids[0], call.params, call.ctx)


@route("POST", "/v1/transfers/{id}/reversals")
def create_reversal(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.create_reversal(call.ids[0], call.params, call.ctx)


@route("GET", "/v1/transfers/{id}/reversals")
def list_reversals(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.list_reversals(call.ids[0], call.params)


@route("GET", "/v1/transfers/{id}/reversals/{id}")
def retrieve_reversal(double: DoubleState, call: Call) -> dict[str, Any]:
    return double.store.retrieve_reversal(call.ids[0], call.ids[1], call.only("expand").expand)


@route("GET", "/v1/balance", stripe_account=True)
def retrieve_balance(double: DoubleState, call: Call) -> dict[str, Any]:
    call.only("expand")
    return double.store.balance(call.account)


# The double's own test helpers (api.stripe.com has no equivalent for Checkout): authenticated like the API.

@route("POST", "/v1/test_helpers/checkout/sessions/{id}/async_result")
def settle_delayed_payment(double: DoubleState, call: Call) -> dict[str, Any]:
    call.only("outcome", "expand")
    outcome = p.as_str(call.params.get("outcome"), "outcome")
    if outcome is None:
        raise StripeError("Missing required param: outcome.", code="parameter_missing", param="outcome")
    return double.store.settle_delayed_payment(call.ids[0], outcome, call.ctx)


@route("POST", "/v1/test_helpers/checkout/sessions/{id}/expire_now")
def expire_now(double: DoubleState, call: Call) -> dict[str, Any]:
    """Expire as the clock would (`request` of the event is null, unlike the API's /expire)."""
    call.only("expand")
    return double.store.expire_checkout_session(call.ids[0], RequestContext(), call.expand)


# -- the HTTP side ----------------------------------------------------------------------------------------------

@router.api_route("/v1/{path:path}", methods=["GET", "POST", "DELETE", "PUT", "PATCH"], include_in_schema=False)
async def v1(request: Request, path: str) -> Response:
    double: DoubleState = request.app.state.double
    request_id = new_id("req_", 14)
    version = request.headers.get("stripe-version") or double.api_version
    headers = {"Request-Id": request_id, "Stripe-Version": version}
    method, url_path = request.method, request.url.path
    try:
        api_key = authenticate(request.headers.get("authorization"), double.api_key_prefix)
        if not _VERSION.match(version):
            raise StripeError(f"Invalid Stripe API version: {version}", param="Stripe-Version")
        handler, ids = _match(method, url_path)
        params = parse_pairs(parse_qsl(request.url.query, keep_blank_values=True))
        if method == "POST":
            body = await request.body()
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if body and content_type not in ("application/x-www-form-urlencoded", ""):
                raise StripeError(f"Invalid request: unsupported Content-Type {content_type}. If error persists and "
                                  "you need assistance, please contact support@stripe.com.")
            params.update(parse_form(body))
        key = request.headers.get("idempotency-key") if method == "POST" else None
        account = request.headers.get("stripe-account") or None
        if account is not None:
            if handler not in CONNECT_AWARE:
                raise StripeError(f"The Stripe double does not implement the Stripe-Account header on {method} "
                                  f"{url_path} (api.stripe.com accepts it). See devtools/stripe_double/README.md.",
                                  param="Stripe-Account")
            double.store.check_account_header(account, api_key)
        call = Call(params=params, ids=ids,
                    ctx=RequestContext(request_id=request_id, idempotency_key=key, account=account))
        if key is None:
            status, body = await _execute(double, handler, call)
            return _json(status, body, headers)
        endpoint = f"{method} {url_path}"
        saved = double.idempotency.begin(api_key=api_key, key=key, endpoint=endpoint, params=params,
                                         request_id=request_id)
        if saved is not None:
            headers.update({"Idempotent-Replayed": "true", "Original-Request": saved.request_id,
                            "Idempotency-Key": key})
            return Response(saved.body, status_code=saved.status, headers=headers, media_type="application/json")
        try:
            status, body = await _execute(double, handler, call)
        except BaseException:
            double.idempotency.finish(api_key=api_key, key=key, status=500, body=b"")
            raise
        encoded = _encode(body)
        double.idempotency.finish(api_key=api_key, key=key, status=status, body=encoded)
        headers.update({"Idempotency-Key": key, "Original-Request": request_id})
        return Response(encoded, status_code=status, headers=headers, media_type="application/json")
    except StripeError as exc:
        headers.update(exc.headers)
        if exc.status == 409:
            headers.setdefault("Stripe-Should-Retry", "true")
        return _json(exc.status, exc.body(), headers)
    except Exception as exc:  # a bug in the double: answer like Stripe's 500 (the SDK retries those)
        log.exception("stripe double: %s %s failed", method, url_path)
        return _json(500, {"error": {"type": "api_error", "message": f"Stripe double internal error: {exc!r}"}},
                     headers)


async def _execute(double: DoubleState, handler: Handler, call: Call) -> tuple[int, dict[str, Any]]:
    try:
        return 200, await run_in_threadpool(handler, double, call)
    except StripeError as exc:
        return exc.status, exc.body()


def authenticate(header: str | None, prefix: str) -> str:
    """The API key from `Authorization: Bearer <key>` or HTTP basic (`<key>:`), checked like Stripe's."""
    if not header:
        raise StripeError(NO_KEY, status=401)
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        key = credentials
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(credentials, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    else:
        raise StripeError(f"Invalid API Key provided: {_mask(credentials or scheme)}", status=401)
    if not key:
        raise StripeError(NO_KEY, status=401)
    if key.startswith("pk_"):
        raise StripeError(PUBLISHABLE_KEY, status=401)
    if not key.startswith(prefix) or len(key) <= len(prefix):
        raise StripeError(f"Invalid API Key provided: {_mask(key)}", status=401)
    return key


def _mask(key: str) -> str:
    if len(key) <= 12:
        return "*" * len(key)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def _match(method: str, path: str) -> tuple[Handler, tuple[str, ...]]:
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return handler, match.groups()
    raise StripeError(f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can "
                      "help at https://support.stripe.com/.", status=404)


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, indent=2).encode()


def _json(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return Response(_encode(body), status_code=status, headers=headers, media_type="application/json")
