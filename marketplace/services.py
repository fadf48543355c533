"""The process-wide adapters (IPFS, chain, mint worker), built once at start-up and kept on app.state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from marketplace.chain.client import ChainClient
from marketplace.config import Settings
from marketplace.exceptions import ChainUnavailable
from marketplace.minting import MintWorker
from marketplace.storage.ipfs import IpfsClient


@dataclass
class Services:
    settings: Settings
    ipfs: IpfsClient
    chain: ChainClient | None
    worker: MintWorker | None = None

    def chain_or_raise(self) -> ChainClient:
        if self.chain is None:
            raise ChainUnavailable("No contract is configured (CONTRACT_ADDRESS)")
        return self.chain


def build_services(settings: Settings) -> Services:
    ipfs = IpfsClient(settings.ipfs_api_url, timeout_s=settings.ipfs_timeout_s)
    chain = None
    if settings.contract_address:
        chain = ChainClient(
            rpc_url=settings.rpc_url,
            contract_address=settings.contract_address,
            minter_key=settings.minter_private_key.get_secret_value(),
        )
    return Services(settings=settings, ipfs=ipfs, chain=chain)


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]
