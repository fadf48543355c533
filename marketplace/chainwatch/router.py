from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from marketplace.chainwatch.watcher import get_checkpoint
from marketplace.core.api_errors import errors
from marketplace.core.db import session_scope
from marketplace.integrations.adapters import AdaptersDep

router = APIRouter(prefix="/api", tags=["chain"])


class ChainInfo(BaseModel):
    chain_id: int
    rpc_url: str = Field(description="a JSON-RPC endpoint for wallets (PUBLIC_RPC_URL; empty when none is public)")
    contract_address: str
    status: Literal["ok", "mismatch", "unchecked"] = Field(
        description="What the chain watcher last found: `ok` (the recorded chain), `mismatch` (the node serves "
                    "another chain: nothing is minted or delivered until the recorded one is back) or `unchecked` "
                    "(no watcher has checked this chain yet)")
    detail: str | None = Field(default=None, description="Why the chain is a mismatch")
    checked_block: int | None = Field(default=None, description="The last block the watcher checked")
    confirmations: int = Field(description="Mints and deliveries are re-verified until this many blocks deep")
    rewinds: int = Field(default=0, description="Rewinds seen (reorgs, or a local chain restarted from an older "
                                                "state); their mints and deliveries were redone")
    last_rewind_at: datetime | None = None
    last_rewind: str | None = None


@router.get("/chain", response_model=ChainInfo, responses=errors(503))
async def chain_info(services: AdaptersDep) -> ChainInfo:
    chain = services.chain_or_raise()

    def read() -> ChainInfo:
        chain_id = chain.chain_id()
        with session_scope() as session:
            checkpoint = get_checkpoint(session=session)
        base = dict(chain_id=chain_id, rpc_url=services.settings.shown_rpc_url,
                    contract_address=chain.contract_address,
                    confirmations=services.settings.confirmations)
        if checkpoint is None:
            return ChainInfo(**base, status="unchecked")
        return ChainInfo(**base, status=checkpoint.status, detail=checkpoint.detail,
                         checked_block=checkpoint.block_number, rewinds=checkpoint.rewinds,
                         last_rewind_at=checkpoint.last_rewind_at, last_rewind=checkpoint.last_rewind)

    return await run_in_threadpool(read)
