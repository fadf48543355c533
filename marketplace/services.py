"""The process-wide adapters (IPFS, chain, mint worker), built once at start-up and kept on app.state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from marketplace.chain.client import ChainClient
from marketplace.chain.watch import ChainWatcher
from marketplace.config import Settings
from marketplace.delivery import DeliveryWorker
from marketplace.exceptions import ChainUnavailable
from marketplace.minting import MintWorker
from marketplace.payments.gateway import StripeGateway
from marketplace.storage.ipfs import IpfsClient


@dataclass
class Services:
    settings: Settings
    ipfs: IpfsClient
    chain: ChainClient | None
    gateway: StripeGateway
    worker: MintWorker | None = None
    delivery: DeliveryWorker | None = None
    watcher: ChainWatcher | None = None

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
    gateway = StripeGateway(
        api_key=settings.stripe_api_key.get_secret_value(),
        api_base=settings.stripe_api_base,
        webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
        max_network_retries=settings.stripe_max_network_retries,
    )
    return Services(settings=settings, ipfs=ipfs, chain=chain, gateway=gateway)


def build_mint_worker(services: Services) -> MintWorker:
    settings = services.settings
    return MintWorker(chain=services.chain_or_raise(), batch_size=settings.mint_batch_size,
                      poll_interval_s=settings.mint_poll_interval_s, max_attempts=settings.mint_max_attempts,
                      lease_s=settings.worker_lease_s, stale_submit_s=settings.worker_stale_submit_s,
                      pipeline_depth=settings.mint_pipeline_depth)


def build_delivery_worker(services: Services) -> DeliveryWorker:
    settings = services.settings
    return DeliveryWorker(
        chain=services.chain_or_raise(),
        gateway=services.gateway,
        wallet_secret=settings.wallet_secret.get_secret_value(),
        fee_bps=settings.platform_fee_bps,
        max_attempts=settings.delivery_max_attempts,
        batch_size=settings.delivery_batch_size,
        gas_topup_wei=settings.custodial_gas_topup_wei,
        poll_interval_s=settings.mint_poll_interval_s,
        lease_s=settings.worker_lease_s,
        stale_submit_s=settings.worker_stale_submit_s,
    )


def build_chain_watcher(services: Services) -> ChainWatcher | None:
    """The chain watcher for the workers built so far (none: no watcher). Call it before starting them: it gates
    them until its first check has passed."""
    workers = [w for w in (services.worker, services.delivery) if w is not None]
    if services.chain is None or not workers:
        return None
    settings = services.settings
    watcher = ChainWatcher(chain=services.chain, confirmations=settings.confirmations,
                           expected_chain_id=settings.chain_id, poll_interval_s=settings.chain_watch_interval_s)
    for worker in workers:
        watcher.follow(worker)
    return watcher


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]
