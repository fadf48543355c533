"""The mint request: POST /api/works/{work_id}/mint (the mint worker does the chain work)."""

from __future__ import annotations

from fastapi import APIRouter, status

from marketplace.accounts import service as accounts_service
from marketplace.accounts.dependencies import CurrentCreator
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import WorkPublic
from marketplace.core.api_errors import errors
from marketplace.core.deps import SessionDep, WorkId
from marketplace.integrations.adapters import AdaptersDep
from marketplace.minting import service as minting_service

router = APIRouter(prefix="/api/works", tags=["works"])


@router.post("/{work_id}/mint", status_code=status.HTTP_202_ACCEPTED, response_model=WorkPublic,
             responses=errors(401, 403, 404, 409, 422, 502, 503))
def mint_work(work_id: WorkId, session: SessionDep, services: AdaptersDep, creator: CurrentCreator) -> WorkPublic:
    work = catalog_service.get_own_work_or_raise(session=session, work_id=work_id, account=creator)
    owner = accounts_service.get_account_or_raise(session=session, account_id=work.creator_id)  # admin may mint
    work = minting_service.request_mint(
        session=session, work=work, creator=owner, ipfs=services.ipfs, chain=services.chain_or_raise(),
        public_base_url=services.settings.public_base_url,
    )
    return catalog_service.work_public(session=session, work=work)

