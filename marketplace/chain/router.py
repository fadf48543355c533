from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from marketplace.api_errors import errors
from marketplace.services import ServicesDep

router = APIRouter(prefix="/api", tags=["chain"])


class ChainInfo(BaseModel):
    chain_id: int
    rpc_url: str = Field(description="a JSON-RPC endpoint for wallets (PUBLIC_RPC_URL; empty when none is public)")
    contract_address: str


@router.get("/chain", response_model=ChainInfo, responses=errors(503))
async def chain_info(services: ServicesDep) -> ChainInfo:
    chain = services.chain_or_raise()
    chain_id = await run_in_threadpool(chain.chain_id)
    return ChainInfo(chain_id=chain_id, rpc_url=services.settings.shown_rpc_url,
                     contract_address=chain.contract_address)
