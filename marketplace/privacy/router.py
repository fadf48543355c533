"""GET /api/me/export (my data, JSON) and DELETE /api/me (delete my account, the password as confirmation)."""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from marketplace.accounts.dependencies import CurrentAccount, PasswordHashingDep
from marketplace.core.api_errors import errors
from marketplace.core.deps import RateLimiterDep, SessionDep, client_address
from marketplace.integrations.adapters import AdaptersDep
from marketplace.privacy import service as privacy_service

router = APIRouter(prefix="/api/me", tags=["privacy"])


class DeleteAccountIn(BaseModel):
    password: str = Field(min_length=1, max_length=128, description="the account's password, as confirmation")


@router.get("/export", response_model=dict[str, Any], responses=errors(401, 503))
def export(account: CurrentAccount, session: SessionDep) -> JSONResponse:
    """Everything the platform holds about the caller (account, profile, works with their creators and shares,
    purchases, ledger entries, calls and proposals, wallet address), as a JSON download."""
    document = privacy_service.export(session=session, account=account)
    return JSONResponse(document, headers={
        "Content-Disposition": f'attachment; filename="marketplace-export-{account.id}.json"'})


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses=errors(400, 401, 403, 408, 422, 429, 503))
async def delete_me(body: DeleteAccountIn, request: Request, account: CurrentAccount, session: SessionDep,
                    services: AdaptersDep, limiter: RateLimiterDep, hashing: PasswordHashingDep) -> None:
    """Delete the caller's account, the password as confirmation (403 when wrong, nothing changed). What is kept
    (purchases, ledger entries, published works and their credit), removed (drafts, profile, avatar) and
    anonymised (e-mail, name, password: the account cannot sign in again) is in the README."""
    await privacy_service.confirm_password(account=account, password=body.password,
                                           address=client_address(request), limiter=limiter, hashing=hashing)
    await anyio.to_thread.run_sync(partial(privacy_service.delete_account, session=session, account=account,
                                           ipfs=services.ipfs))
