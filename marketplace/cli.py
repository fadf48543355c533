"""The `marketplace` command: dev, serve, worker, migrate, seed, create-admin."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time


def serve_worker_metrics(settings):
    """The worker's metrics on WORKER_METRICS_HOST:WORKER_METRICS_PORT (127.0.0.1 unless set: docker-compose.yml
    sets 0.0.0.0 on its internal network). The server, or None when the port cannot be bound (the workers matter
    more than their metrics)."""
    from prometheus_client import start_http_server

    from marketplace.core import observability

    try:
        server, _thread = start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host,
                                            registry=observability.REGISTRY)
    except OSError as exc:
        logging.getLogger(__name__).warning("worker metrics not served on %s:%d: %s", settings.worker_metrics_host,
                                            settings.worker_metrics_port, exc)
        return None
    return server

def fresh_settings():
    """Settings read afresh from the environment (a command may have set it just before)."""
    from marketplace.core.config import get_settings

    get_settings.cache_clear()
    return get_settings()


def cmd_migrate(_args) -> int:
    from marketplace.core.migrate import upgrade

    settings = fresh_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    print("database is up to date")
    return 0


def cmd_dev(args) -> int:
    """The whole product on this machine: the development stack lives in the source checkout (devtools/), not in
    the installed package."""
    try:
        from devtools.cli import run_dev
    except ImportError:
        print("`marketplace dev` runs from a source checkout: use `make run` (or `python -m devtools dev`) there.",
              file=sys.stderr)
        return 2
    return run_dev(host=args.host, port=args.port, no_demo=args.no_demo)


def cmd_serve(args) -> int:
    """Production-style API server (migrations are a separate step: `marketplace migrate`)."""
    import uvicorn

    from marketplace.main import create_app

    uvicorn.run(create_app(fresh_settings()), host=args.host, port=args.port, proxy_headers=True)
    return 0


def cmd_worker(_args) -> int:
    """The background workers in their own process: minting, delivery, the chain indexer, payouts and mail (run
    the API with RUN_MINT_WORKER=false RUN_DELIVERY_WORKER=false RUN_INDEXER=false RUN_PAYOUT_WORKER=false
    RUN_MAIL_WORKER=false and one of these per signer key)."""
    from marketplace.core import db, observability
    from marketplace.services import build_services, start_workers, stop_workers

    settings = fresh_settings()
    observability.configure_logging(level=settings.log_level, fmt=settings.log_format)
    for secret in settings.secret_values():
        observability.register_secret(secret)
    db.init_engine(settings.effective_database_url)
    services = build_services(settings)
    if settings.worker_metrics_port:  # the latencies and failures this process observes (queue depth: the API's)
        serve_worker_metrics(settings)
    if services.chain is None:
        print("the workers need a chain: no contract is configured (CONTRACT_ADDRESS)", file=sys.stderr)
        return 2
    start_workers(services, mint=True, delivery=True, indexer=True, payouts=True, mail=True)
    print(f"mint, delivery, indexer, payout and mail workers running against {settings.rpc_url}; Ctrl-C stops them")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        stop_workers(services)
    return 0


def cmd_seed(args) -> int:
    """The demo sector into the configured database, against the configured chain, IPFS and Stripe double (what
    `make run` does by itself on an empty database)."""
    from marketplace.core import db
    from marketplace.core.migrate import upgrade
    from marketplace.demo.content import ACCOUNTS_PRINTED, DEMO_PASSWORD
    from marketplace.demo.seed import SeedFailed, SeedRefused, seed_sector
    from marketplace.services import build_services

    settings = fresh_settings()
    if settings.env == "production" and not args.allow_production:  # before the database is even migrated
        print("seed refused: ENV=production (pass --allow-production to seed the demo there)", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    db.init_engine(settings.effective_database_url)
    services = build_services(settings)
    for noisy in ("marketplace", "stripe"):  # a line per mint, delivery and Stripe request: quiet while seeding
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        with db.session_scope() as session:
            report = seed_sector(session=session, services=services, settings=settings, force=args.force,
                                 allow_production=args.allow_production, say=print)
    except SeedRefused as exc:
        print(f"seed refused: {exc}", file=sys.stderr)
        print("  (`make run` starts anvil, IPFS and the Stripe double and seeds an empty database itself; or set "
              "RPC_URL, CONTRACT_ADDRESS, SPLITS_ADDRESS, IPFS_API_URL and STRIPE_API_BASE to running ones)",
              file=sys.stderr)
        return 2
    except SeedFailed as exc:
        print(f"seed failed: {exc}", file=sys.stderr)
        return 1
    finally:
        services.ipfs.close()
    print(f"seeded: {report.summary()}")
    print(f"sign in with (password {DEMO_PASSWORD}):")
    for person in ACCOUNTS_PRINTED:
        print(f"  {person.role:8} {person.email}")
    return 0


def cmd_create_admin(args) -> int:
    from marketplace.accounts import service as accounts_service
    from marketplace.accounts.models import AccountCreate, Role
    from marketplace.core import db

    settings = fresh_settings()
    db.init_engine(settings.effective_database_url)
    with db.session_scope() as session:
        account = accounts_service.register(
            session=session,
            account_in=AccountCreate(email=args.email, password=args.password, display_name=args.name,
                                     role=Role.admin),
            wallet_secret=settings.wallet_secret.get_secret_value(),
            allow_admin=True,
        )
        print(f"admin {account.email} created (id {account.id})")
    return 0


def main(argv: list[str] | None = None) -> int:
    from marketplace.core import observability

    observability.configure_logging()  # JSON lines; the app and the worker command re-apply LOG_LEVEL / LOG_FORMAT
    parser = argparse.ArgumentParser(prog="marketplace", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("dev", help="run the whole product locally (anvil, IPFS, SQLite, demo data)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-demo", action="store_true", help="do not create demo accounts and works")
    p.set_defaults(fn=cmd_dev)

    p = sub.add_parser("serve", help="run the API server (production)")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(fn=cmd_serve)

    sub.add_parser("worker", help="run the background workers (mint, delivery, indexer, payouts, mail) without the API").set_defaults(fn=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)

    p = sub.add_parser("seed", help="fill an empty database with the demo sector (chain, IPFS and the Stripe double "
                                    "must be running)")
    p.add_argument("--force", action="store_true", help="seed even though the database has accounts")
    p.add_argument("--allow-production", action="store_true", help="seed even with ENV=production")
    p.set_defaults(fn=cmd_seed)

    p = sub.add_parser("create-admin", help="create an admin account")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--name", default="Administrator")
    p.set_defaults(fn=cmd_create_admin)

    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
