"""The creator's payouts: set up Stripe Connect onboarding, and what has been transferred."""

from __future__ import annotations

from fastapi import APIRouter

from marketplace.accounts.dependencies import CurrentAccount
from marketplace.core.api_errors import errors
from marketplace.core.deps import SessionDep
from marketplace.core.exceptions import Forbidden
from marketplace.integrations.adapters import AdaptersDep
from marketplace.payouts import service as payouts_service
from marketplace.payouts.models import OnboardingPublic, PayoutsPublic

router = APIRouter(prefix="/api/me/payouts", tags=["payouts"])


@router.post("/onboarding", response_model=OnboardingPublic, responses=errors(401, 403, 502, 503))
def start_onboarding(session: SessionDep, services: AdaptersDep, account: CurrentAccount) -> OnboardingPublic:
    """The creator's Stripe connected account (Express, created once) and a fresh link to Stripe's hosted
    onboarding at `url`; Stripe sends them back to the studio's payouts page. A collector who sold a token here
    (a resale) sets up payouts the same way; any other buyer account: 403."""
    if not payouts_service.may_be_paid(session, account):
        raise Forbidden("Only creators, and collectors who sold a token here, receive payouts")
    url = payouts_service.start_onboarding(session=session, account=account, gateway=services.gateway,
                                           public_base_url=services.settings.public_base_url)
    return OnboardingPublic(url=url)


@router.get("", response_model=PayoutsPublic, responses=errors(401, 503))
def my_payouts(session: SessionDep, account: CurrentAccount) -> PayoutsPublic:
    """The connected account's state as Stripe reports it (`none`, `onboarding`, `enabled`, `restricted`) and the
    money in integer cents: `available_cents` earned and not transferred yet (negative: a refused reversal owed
    back), `pending_cents` held by PAYOUT_HOLD_DAYS, `paid_cents` transferred net of reversals (the three sum to
    `GET /api/me/earnings`), and every transfer and reversal, newest first."""
    return payouts_service.summary(session=session, account_id=account.id)
