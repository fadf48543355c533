"""The process-wide adapters to the outside systems (IPFS, the chain, Stripe), built once at start-up and kept on
app.state; routers take them as a dependency (AdaptersDep) and pass them to the domain services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from marketplace.core.config import Settings
from marketplace.core.db import normalise_url
from marketplace.core.exceptions import ChainUnavailable
from marketplace.core.nonces import SharedNonces
from marketplace.integrations.chain.client import ChainClient
from marketplace.integrations.ipfs.client import IpfsClient
from marketplace.integrations.ipfs.pinning import PinningService, RemotePinner
from marketplace.integrations.stripe.gateway import StripeGateway


@dataclass
class Adapters:
    settings: Settings
    ipfs: IpfsClient
    chain: ChainClient | None
    gateway: StripeGateway

    def chain_or_raise(self) -> ChainClient:
        if self.chain is None:
            raise ChainUnavailable("No contract is configured (CONTRACT_ADDRESS)")
        return self.chain


def adapter_parts(settings: Settings) -> dict:
    """The adapters' constructor arguments from settings (Adapters(**adapter_parts(settings)))."""
    chain = None
    if settings.contract_address:
        chain = ChainClient(
            rpc_url=settings.rpc_url,
            contract_address=settings.contract_address,
            splits_address=settings.splits_address,
            minter_key=settings.minter_private_key.get_secret_value(),
            max_fee_per_gas_wei=settings.max_fee_per_gas_wei,
            priority_fee_wei=settings.priority_fee_wei,
            # several API and worker processes on one PostgreSQL database share each key's nonces through it
            nonces=SharedNonces() if normalise_url(settings.effective_database_url).startswith("postgresql") else None,
        )
    gateway = StripeGateway(
        api_key=settings.stripe_api_key.get_secret_value(),
        api_base=settings.stripe_api_base,
        webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
        connect_webhook_secret=(settings.stripe_connect_webhook_secret.get_secret_value()
                                if settings.stripe_connect_webhook_secret else None),
        max_network_retries=settings.stripe_max_network_retries,
    )
    remote = None
    if settings.ipfs_pinning_service_url:
        token = settings.ipfs_pinning_service_token
        remote = RemotePinner(PinningService(settings.ipfs_pinning_service_url,
                                             token.get_secret_value() if token else "",
                                             timeout_s=settings.ipfs_timeout_s),
                              max_attempts=settings.ipfs_pinning_max_attempts,
                              backoff_s=settings.ipfs_pinning_backoff_s,
                              max_wait_s=settings.ipfs_pinning_max_wait_s)
    ipfs = IpfsClient(settings.ipfs_api_url, timeout_s=settings.ipfs_timeout_s, remote=remote)
    return dict(settings=settings, ipfs=ipfs, chain=chain, gateway=gateway)


def get_adapters(request: Request) -> Adapters:
    return request.app.state.services


AdaptersDep = Annotated[Adapters, Depends(get_adapters)]
