"""The double's own test controls under `/_double/` (no API key: bind the double to localhost)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from devtools.stripe_double.errors import StripeError

if TYPE_CHECKING:
    from devtools.stripe_double.app import DoubleState

router = APIRouter(prefix="/_double", include_in_schema=False)


def _double(request: Request) -> DoubleState:
    return request.app.state.double


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    return {"ok": True, "now": _double(request).store.now()}


@router.get("/events")
async def events(request: Request, type: str | None = None) -> dict[str, Any]:
    """Every event, oldest first, each with its webhook deliveries: `{"data": [{"event", "delivery"}]}`."""
    double = _double(request)
    deliveries = double.webhooks.deliveries()
    data = [{"event": e, "delivery": deliveries.get(e["id"])} for e in double.store.events_in_order()
            if type is None or e["type"] == type]
    return {"data": data, "webhooks": double.webhooks.settings()}


@router.get("/events/{event_id}")
async def event(request: Request, event_id: str) -> dict[str, Any]:
    double = _double(request)
    found = [e for e in double.store.events_in_order() if e["id"] == event_id]
    if not found:
        raise HTTPException(404, f"No such event: {event_id}")
    return {"event": found[0], "delivery": double.webhooks.delivery(event_id)}


@router.get("/objects")
async def objects(request: Request) -> dict[str, Any]:
    return _double(request).store.objects()


@router.get("/webhooks")
async def webhook_settings(request: Request) -> dict[str, Any]:
    return _double(request).webhooks.settings()


@router.post("/webhooks/endpoint")
async def set_endpoint(request: Request) -> dict[str, Any]:
    """Form or JSON: `url` (empty string: no endpoint) and/or `enabled_events` (comma separated or a list);
    `connect_url` / `connect_secret`: the Connect endpoint (empty string: Connect events go to `url`)."""
    values = await _values(request)
    enabled = values.get("enabled_events")
    if isinstance(enabled, str):
        enabled = [e.strip() for e in enabled.split(",") if e.strip()]
    double = _double(request)
    double.webhooks.configure(url=values.get("url"), enabled_events=enabled, connect_url=values.get("connect_url"),
                              connect_secret=values.get("connect_secret"))
    return double.webhooks.settings()


@router.post("/webhooks/redeliver/{event_id}")
async def redeliver(request: Request, event_id: str) -> dict[str, Any]:
    if not _double(request).webhooks.redeliver(event_id):
        raise HTTPException(404, f"No such event or no webhook endpoint: {event_id}")
    return {"redelivering": event_id}


@router.post("/webhooks/duplicate/{event_id}")
async def duplicate(request: Request, event_id: str, copies: int = 1) -> dict[str, Any]:
    if not _double(request).webhooks.duplicate(event_id, copies):
        raise HTTPException(404, f"No such event or no webhook endpoint: {event_id}")
    return {"duplicating": event_id, "copies": copies}


@router.post("/webhooks/pause")
async def pause(request: Request) -> dict[str, Any]:
    _double(request).webhooks.pause()
    return _double(request).webhooks.settings()


@router.post("/webhooks/resume")
async def resume(request: Request, order: str = "fifo") -> dict[str, Any]:
    try:
        _double(request).webhooks.resume(order)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return _double(request).webhooks.settings()


@router.post("/webhooks/wait")
async def wait(request: Request, timeout: float = 10.0) -> dict[str, Any]:
    """Block until no delivery is queued or in flight (or timeout): `{"idle": bool}`."""
    idle = await run_in_threadpool(_double(request).webhooks.wait_idle, timeout)
    return {"idle": idle}


@router.post("/clock/advance")
async def advance_clock(request: Request, seconds: int) -> dict[str, Any]:
    """Move the double's clock forward and expire the sessions that are now past `expires_at`."""
    double = _double(request)
    now = double.store.advance_clock(seconds)
    expired = await run_in_threadpool(double.store.expire_due_sessions)
    return {"now": now, "expired": expired}


@router.post("/accounts/{account_id}/complete_onboarding")
async def complete_onboarding(request: Request, account_id: str) -> dict[str, Any]:
    """What pressing Complete onboarding does, without a browser: the account enabled, `account.updated`."""
    return await _on_account(request, account_id, lambda store: store.complete_onboarding(account_id))


@router.post("/accounts/{account_id}/restrict")
async def restrict(request: Request, account_id: str) -> dict[str, Any]:
    """Stripe restricts the account: form/query/JSON `requirements` (comma separated, past due; default
    `individual.verification.document`) and `disabled_reason` (default `requirements.past_due`). Payouts and
    charges disabled, capabilities inactive (transfers to it refused), `account.updated`."""
    values = await _values(request)
    due = values.get("requirements")
    if isinstance(due, str):
        due = [r.strip() for r in due.split(",") if r.strip()]
    reason = str(values.get("disabled_reason") or "requirements.past_due")
    return await _on_account(request, account_id, lambda store: store.restrict_account(account_id, due, reason))


@router.post("/accounts/{account_id}/fail_next_reversal")
async def fail_next_reversal(request: Request, account_id: str, code: str = "balance_insufficient") -> dict:
    """The next transfer reversal from this account is refused with `code` (call again to refuse several)."""
    await _on_account(request, account_id, lambda store: store.fail_next_reversal(account_id, code))
    return {"account": account_id, "fail_next_reversal": code}


@router.post("/accounts/{account_id}/payout")
async def payout(request: Request, account_id: str, amount: int | None = None, currency: str | None = None) -> dict:
    """Pay the connected account out to its bank: `amount` cents (default: all it has) leave its balance, so a
    later reversal that the rest cannot cover is refused (`balance_insufficient`), as on Stripe."""
    double = _double(request)
    try:
        return await run_in_threadpool(double.store.pay_out, account_id, amount, currency)
    except StripeError as exc:
        raise HTTPException(404 if exc.code == "resource_missing" else 400, exc.message) from None


async def _on_account(request: Request, account_id: str, action) -> Any:
    try:
        return await run_in_threadpool(action, _double(request).store)
    except StripeError as exc:
        raise HTTPException(404, exc.message) from None


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    _double(request).reset()
    return {"ok": True}


async def _values(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        return body if isinstance(body, dict) else {}
    values: dict[str, Any] = dict(request.query_params)
    values.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
    return values
