"""GET /api/tokens/{token_id}/history (public) and GET /api/me/activity (the signed-in account's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from marketplace.accounts.dependencies import CurrentAccount
from marketplace.core.api_errors import errors
from marketplace.core.deps import SessionDep
from marketplace.core.exceptions import NotFound
from marketplace.core.limits import MAX_PAGE, MAX_PAGE_SIZE
from marketplace.provenance import service
from marketplace.provenance.schemas import ActivityPage, HistoryEntry

router = APIRouter(prefix="/api", tags=["provenance"])
TokenId = Annotated[str, Path(pattern=r"^[0-9]{1,78}$", description="the token's id, decimal")]


@router.get("/tokens/{token_id}/history", response_model=list[HistoryEntry], responses=errors(404, 422, 503))
def token_history(token_id: TokenId, session: SessionDep) -> list[HistoryEntry]:
    """Every transfer of the token as the chain index read it, oldest first: `minted`, `sold` and `resold` (with
    what the sale cost), `withdrawn` (to its holder's own wallet), `transferred` (any other move, made here or
    outside the marketplace)."""
    number = int(token_id)
    history = service.token_history(session, number) if number < 2**256 else None
    if history is None:
        raise NotFound("No such token")
    return history


@router.get("/me/activity", response_model=ActivityPage, responses=errors(401, 422, 503))
def my_activity(session: SessionDep, account: CurrentAccount, page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
                page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 24) -> ActivityPage:
    """The transfers to and from the signed-in account's wallets, newest first (from the chain index)."""
    data, count = service.account_activity(session, account, page=page, page_size=page_size)
    return ActivityPage(data=data, count=count, page=page, page_size=page_size)
