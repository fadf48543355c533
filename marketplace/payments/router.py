from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool

from marketplace.accounts.dependencies import CurrentAccount
from marketplace.catalog import service as catalog_service
from marketplace.core.api_errors import errors
from marketplace.core.db import session_scope
from marketplace.core.deps import CallId, PurchaseId, RateLimiterDep, SessionDep, WorkId, client_address
from marketplace.core.limits import MAX_PAGE, MAX_PAGE_SIZE
from marketplace.integrations.adapters import AdaptersDep
from marketplace.mail.outbox import Sender
from marketplace.payments import checkout as checkout_flow
from marketplace.payments import service as payments_service
from marketplace.payments import webhooks
from marketplace.payments.models import CheckoutCreate, CheckoutPublic, Earnings, LedgerPublic, PurchasePublic

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["payments"])


async def checkout_limit(request: Request, buyer: CurrentAccount, limiter: RateLimiterDep) -> None:
    """Checkouts are rate limited per buyer account and per client address (429 with Retry-After): each one
    reserves a work for the checkout's lifetime, so a flood of them would take works off sale."""
    await limiter.hit("checkout", account=f"account-{buyer.id}", address=client_address(request))


@router.post("/works/{work_id}/checkout", status_code=status.HTTP_201_CREATED, response_model=CheckoutPublic,
             dependencies=[Depends(checkout_limit)], responses=errors(401, 404, 408, 409, 422, 429, 502, 503))
def checkout(
    work_id: WorkId,
    session: SessionDep,
    services: AdaptersDep,
    buyer: CurrentAccount,
    checkout_in: CheckoutCreate | None = Body(default=None),
) -> CheckoutPublic:
    """Reserve the work and open a Stripe Checkout Session in euros; pay at `checkout_url`. The body must say
    `accept_immediate_supply: true` (the buyer's consent to immediate supply, losing the right of withdrawal):
    without it (or without a body) 422 and nothing is reserved."""
    # a hidden work: 409 with the reason it cannot be bought (not 404: its buyer had it open)
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=buyer,
                                                     include_hidden=True)
    purchase = checkout_flow.start_checkout(
        session=session, work=work, buyer=buyer,
        wallet_address=checkout_in.wallet_address if checkout_in else None,
        license_accepted=checkout_in.accept_license if checkout_in else False,
        immediate_supply=checkout_in.accept_immediate_supply if checkout_in else False,
        gateway=services.gateway, public_base_url=services.settings.public_base_url,
        expires_minutes=services.settings.checkout_expires_minutes,
        url_secret=services.settings.auth_secret.get_secret_value(),
    )
    return CheckoutPublic(purchase_id=purchase.id, checkout_url=purchase.checkout_url)


@router.post("/calls/{call_id}/checkout", status_code=status.HTTP_201_CREATED, response_model=CheckoutPublic,
             dependencies=[Depends(checkout_limit)], responses=errors(401, 403, 404, 409, 422, 429, 502, 503))
def call_checkout(call_id: CallId, session: SessionDep, services: AdaptersDep, buyer: CurrentAccount) -> CheckoutPublic:
    """The caller pays an awarded call's budget by card: a Stripe Checkout Session in euros (the same one again
    while it is open; 409 once paid). When the payment is recorded the call is `paid` and each member of the
    awarded team is credited their share of the budget minus the platform fee."""
    purchase = checkout_flow.start_call_checkout(
        session=session, call_id=call_id, buyer=buyer, gateway=services.gateway,
        public_base_url=services.settings.public_base_url,
        expires_minutes=services.settings.checkout_expires_minutes,
        url_secret=services.settings.auth_secret.get_secret_value())
    return CheckoutPublic(purchase_id=purchase.id, checkout_url=purchase.checkout_url)


@router.post("/stripe/webhook", include_in_schema=False)
async def stripe_webhook(request: Request, services: AdaptersDep) -> dict:
    """Verify the signature on the raw body, record the event once, answer fast; chain work happens in a worker."""
    payload = await request.body()
    event = services.gateway.construct_event(payload, request.headers.get("stripe-signature"))

    def apply() -> str:
        with session_scope() as session:
            return webhooks.handle_stripe_event(session=session, event=event,
                                                fee_bps=services.settings.platform_fee_bps,
                                                sender=Sender.of(services.settings))

    outcome = await run_in_threadpool(apply)
    log.info("stripe event %s %s: %s", event["id"], event["type"], outcome)
    return {"received": True, "outcome": outcome}


@router.get("/purchases", response_model=list[PurchasePublic], responses=errors(401, 503))
def my_purchases(session: SessionDep, account: CurrentAccount) -> list[PurchasePublic]:
    return [payments_service.to_public(p) for p in payments_service.list_purchases(session=session,
                                                                                  buyer_id=account.id)]


@router.get("/purchases/{purchase_id}", response_model=PurchasePublic, responses=errors(401, 404, 422, 503))
def get_purchase(purchase_id: PurchaseId, session: SessionDep, account: CurrentAccount) -> PurchasePublic:
    purchase = payments_service.get_visible_purchase_or_raise(session=session, purchase_id=purchase_id,
                                                              viewer=account)
    return payments_service.to_public(purchase)


@router.post("/purchases/{purchase_id}/cancel", response_model=PurchasePublic,
             responses=errors(401, 403, 404, 409, 422, 502, 503))
def cancel_purchase(purchase_id: PurchaseId, session: SessionDep, services: AdaptersDep,
                    account: CurrentAccount) -> PurchasePublic:
    """The buyer cancels their pending checkout: the Checkout Session is expired at Stripe and the work is available
    again at once. 409 unless the purchase is pending (or when Stripe has taken the payment already)."""
    purchase = payments_service.get_visible_purchase_or_raise(session=session, purchase_id=purchase_id,
                                                              viewer=account)
    purchase = checkout_flow.cancel_checkout(
        session=session, purchase=purchase, buyer=account, gateway=services.gateway,
        public_base_url=services.settings.public_base_url,
        url_secret=services.settings.auth_secret.get_secret_value())
    return payments_service.to_public(purchase)


@router.get("/me/earnings", response_model=Earnings, responses=errors(401, 503))
def my_earnings(session: SessionDep, account: CurrentAccount) -> Earnings:
    """The signed-in creator's balance from the ledger, in integer cents."""
    return Earnings(account_id=account.id, currency="EUR",
                    balance_cents=payments_service.balance_cents(session=session, account_id=account.id))


@router.get("/me/ledger", response_model=LedgerPublic, responses=errors(401, 422, 503))
def my_ledger(session: SessionDep, account: CurrentAccount, page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
              page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 24) -> LedgerPublic:
    """The signed-in account's ledger entries, newest first: each sale's share (of every work they co-created)
    and each refund's reversal; they sum to `GET /api/me/earnings`."""
    entries, count = payments_service.ledger_of(session=session, account_id=account.id, page=page,
                                                page_size=page_size)
    return LedgerPublic(data=entries, count=count, page=page, page_size=page_size)
