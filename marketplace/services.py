"""The composition root: the adapters and the workers of one process, wired together (main and the worker command
use it; routers and services never import it: they take the adapters from marketplace.integrations.adapters)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from marketplace.accounts import profiles
from marketplace.catalog import service as catalog_service
from marketplace.chainwatch.watcher import ChainWatcher
from marketplace.core import db
from marketplace.core.config import Settings
from marketplace.indexer import service as indexer_service
from marketplace.indexer.worker import IndexerWorker
from marketplace.integrations.adapters import Adapters, adapter_parts
from marketplace.jobs.scheduler import SchedulerLock
from marketplace.mail.outbox import Sender
from marketplace.mail.sender import SmtpConfig
from marketplace.mail.worker import MailWorker
from marketplace.minting.worker import MintWorker
from marketplace.moderation import service as moderation_service
from marketplace.payments import checkout as payments_checkout
from marketplace.payments import service as payments_service
from marketplace.payments.delivery import DeliveryWorker
from marketplace.payouts import webhooks as payouts_webhooks
from marketplace.payouts.worker import PayoutWorker
from marketplace.resale import service as resale_service


@dataclass
class Services(Adapters):
    """The adapters and the workers this process runs (none until main or the worker command builds them)."""

    worker: MintWorker | None = None
    delivery: DeliveryWorker | None = None
    watcher: ChainWatcher | None = None
    payouts: PayoutWorker | None = None
    mail: MailWorker | None = None
    indexer: IndexerWorker | None = None


def build_services(settings: Settings) -> Services:
    payouts_webhooks.register()  # the payments webhook hands Connect's events to payouts
    indexer_service.register_transfer_handler(catalog_service.follow_token)  # a token moved away: withdrawn
    indexer_service.register_transfer_handler(resale_service.follow_token)  # a listed token moved: withdrawn
    payments_service.register_settled_hook(resale_service.on_settled)  # a resale delivered: its listing sold
    payments_service.register_delivery_check(resale_service.delivery_check)  # a cancelled listing sells nothing
    # a work moderation hid: its open checkouts are expired at Stripe (so it cannot be paid for after the decision)
    moderation_service.register_hide_handler("payments", payments_checkout.expire_checkouts_of_hidden)
    services = Services(**adapter_parts(settings))
    if services.ipfs.remote is not None:  # what the catalogue stores is queued for the pinning service at start
        services.ipfs.remote.stored_cids = _stored_cids
    return services


def _stored_cids() -> set[str]:
    with Session(db.get_engine()) as session:
        return catalog_service.stored_cids(session=session) | profiles.avatar_cids(session=session)


def build_payout_worker(services: Services) -> PayoutWorker:
    """Creators' earnings -> Stripe transfers (and refunds -> reversals); needs Stripe only, not the chain."""
    settings = services.settings
    return PayoutWorker(gateway=services.gateway, hold_days=settings.payout_hold_days, sender=Sender.of(settings),
                        max_attempts=settings.payout_max_attempts, poll_interval_s=settings.mint_poll_interval_s,
                        lease_s=settings.worker_lease_s, retry_backoff_s=settings.job_retry_backoff_s)


def build_mint_worker(services: Services) -> MintWorker:
    settings = services.settings
    return MintWorker(chain=services.chain_or_raise(), batch_size=settings.mint_batch_size,
                      poll_interval_s=settings.mint_poll_interval_s, max_attempts=settings.mint_max_attempts,
                      lease_s=settings.worker_lease_s, stale_submit_s=settings.worker_stale_submit_s,
                      retry_backoff_s=settings.job_retry_backoff_s, pipeline_depth=settings.mint_pipeline_depth)


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
        sender=Sender.of(settings),
        ipfs=services.ipfs,
        public_base_url=settings.public_base_url,
        poll_interval_s=settings.mint_poll_interval_s,
        lease_s=settings.worker_lease_s,
        stale_submit_s=settings.worker_stale_submit_s,
        retry_backoff_s=settings.job_retry_backoff_s,
    )


def build_indexer(services: Services) -> IndexerWorker:
    """The chain indexer (our contracts' events -> the index every owner shown is read from)."""
    settings = services.settings
    indexer = IndexerWorker(chain=services.chain_or_raise(), confirmations=settings.indexer_confirmations,
                            from_block=settings.indexer_from_block, blocks_per_step=settings.indexer_blocks_per_step,
                            keep_blocks=settings.indexer_keep_blocks, poll_interval_s=settings.indexer_poll_interval_s)
    indexer.scheduler = scheduler_lock("indexer")
    return indexer


def scheduler_lock(task: str) -> SchedulerLock | None:
    """The lock that keeps a periodic task to one process across processes (PostgreSQL; SQLite: None, one
    process runs everything)."""
    return SchedulerLock.for_engine(task, db.get_engine())


def smtp_config(settings: Settings) -> SmtpConfig:
    return SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user or None,
                      password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                      starttls=settings.smtp_starttls, mail_from=settings.mail_from, timeout_s=settings.smtp_timeout_s)


def build_mail_worker(services: Services) -> MailWorker:
    """The outbox's sender (no chain needed: it runs whether or not the chain is up)."""
    settings = services.settings
    return MailWorker(smtp=smtp_config(settings), batch_size=settings.mail_batch_size,
                      max_attempts=settings.mail_max_attempts, poll_interval_s=settings.mail_poll_interval_s,
                      lease_s=settings.worker_lease_s, retry_backoff_s=settings.job_retry_backoff_s)


def build_chain_watcher(services: Services) -> ChainWatcher | None:
    """The chain watcher for the workers built so far (none: no watcher). Call it before starting them: it gates
    them until its first check has passed."""
    workers = [w for w in (services.worker, services.delivery) if w is not None]
    if services.chain is None or not workers:
        return None  # the indexer alone writes nothing to the chain: its own block hashes tell it a rewind
    if services.indexer is not None:
        workers.append(services.indexer)
    settings = services.settings
    watcher = ChainWatcher(chain=services.chain, confirmations=settings.confirmations,
                           expected_chain_id=settings.chain_id, poll_interval_s=settings.chain_watch_interval_s)
    for worker in workers:
        watcher.follow(worker)
    watcher.scheduler = scheduler_lock("chainwatch")  # the others follow the checkpoint it keeps
    return watcher


def start_workers(services: Services, *, mint: bool, delivery: bool, indexer: bool, payouts: bool,
                  mail: bool) -> None:
    """Build the chosen workers of this process (the chain's only with a chain configured), the chain watcher
    that gates them, and start them, the watcher first. main's lifespan (the RUN_* settings) and the worker
    command (all of them) both start theirs here; stop_workers stops them."""
    on_chain = services.chain is not None
    if mint and on_chain:
        services.worker = build_mint_worker(services)
    if delivery and on_chain:
        services.delivery = build_delivery_worker(services)
    if indexer and on_chain:
        services.indexer = build_indexer(services)
    if payouts:
        services.payouts = build_payout_worker(services)
    if mail:
        services.mail = build_mail_worker(services)
    services.watcher = build_chain_watcher(services)  # gates the chain's workers until the chain is checked
    if services.ipfs.remote is not None:
        services.ipfs.remote.start()  # the remote pin queue (shared by all processes through its table)
    for worker in (services.watcher, services.worker, services.delivery, services.indexer, services.payouts,
                   services.mail):
        if worker is not None:
            worker.start()


def stop_workers(services: Services) -> None:
    """Stop what start_workers started: the workers first, the watcher gating them after, mail last (the others
    may still queue a notice while they stop)."""
    for worker in (services.worker, services.delivery, services.indexer, services.payouts, services.watcher,
                   services.mail, services.ipfs.remote):
        if worker is not None:
            worker.stop()
