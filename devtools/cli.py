"""The whole product on one machine (what `make run` runs): `python -m devtools dev`, or `marketplace dev` from a
checkout; the command line is marketplace.cli's."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """The workers' info lines (one per mint, delivery, payout) kept out of the terminal while the seed drives them;
    warnings and errors still show."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def run_dev(*, host: str = "127.0.0.1", port: int = 8000, no_demo: bool = False) -> int:
    """Everything on one machine: anvil, IPFS, contract, SQLite, demo data, the web app with its mint worker."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # no line per migration in the terminal
    import uvicorn

    from devtools.seed import seed_demo
    from devtools.stack import start_local_stack
    from marketplace.cli import fresh_settings
    from marketplace.core import db, observability
    from marketplace.core.config import DEV_STRIPE_WEBHOOK_SECRET
    from marketplace.core.migrate import upgrade
    from marketplace.demo.content import ACCOUNTS_PRINTED, DEMO_PASSWORD
    from marketplace.demo.seed import SeedFailed, SeedRefused, seed_sector
    from marketplace.main import create_app
    from marketplace.services import build_services

    data_dir = Path(os.environ.get("DATA_DIR", "data")).resolve()
    os.environ.setdefault("ENV", "dev")
    os.environ["DATA_DIR"] = str(data_dir)
    print("Starting the local stack…")
    with ExitStack() as stack:
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        app_url = f"http://{host}:{port}"
        webhook_secret = os.environ.get("STRIPE_WEBHOOK_SECRET", DEV_STRIPE_WEBHOOK_SECRET)
        # STRIPE_API_BASE set explicitly (e.g. https://api.stripe.com with test keys): no double
        use_double = not os.environ.get("STRIPE_API_BASE")
        local = start_local_stack(stack, data_dir=data_dir, app_url=app_url, webhook_secret=webhook_secret,
                                  stripe_double=use_double, mail_sink=not os.environ.get("SMTP_HOST"))
        if use_double:
            os.environ["STRIPE_API_BASE"] = local.stripe_api_base
        if local.mail_sink is not None:  # SMTP_HOST set explicitly: a real mail server, no sink
            os.environ["SMTP_HOST"] = local.mail_sink.host
            os.environ["SMTP_PORT"] = str(local.mail_sink.smtp_port)
        os.environ["STRIPE_WEBHOOK_SECRET"] = webhook_secret
        os.environ["RPC_URL"] = local.rpc_url
        os.environ["IPFS_API_URL"] = local.ipfs_api_addr
        os.environ["CONTRACT_ADDRESS"] = local.contract_address
        os.environ["SPLITS_ADDRESS"] = local.splits_address
        os.environ["PUBLIC_BASE_URL"] = app_url
        settings = fresh_settings()
        observability.configure_logging(level=settings.log_level, fmt=settings.log_format)  # console in dev
        upgrade(settings.effective_database_url)
        db.init_engine(settings.effective_database_url)
        services = build_services(settings)  # one set for the seed and the app
        if not no_demo:
            with db.session_scope() as session, _quiet("marketplace"):  # the seed says what it does
                accounts = True
                try:  # an empty database only (a database with accounts is refused, untouched)
                    report = seed_sector(session=session, services=services, settings=settings,
                                         say=lambda message: print(f"    {message}", flush=True))
                    print(f"  demo sector created: {report.summary()}")
                except SeedRefused as exc:
                    if exc.reason == "service":  # e.g. a real Stripe: the small demo, its works minted meanwhile
                        print(f"  no demo sector: {exc}")
                        if seed_demo(session=session, services=services, settings=settings):
                            print("  the small demo instead: its accounts and three works (minting in the background)")
                    elif exc.reason != "not_empty":
                        print(f"  no demo data: {exc}")
                        accounts = False
                except SeedFailed as exc:  # what was made stays; the app starts anyway (its workers carry on)
                    print(f"  the demo seed did not finish: {exc}")
            if accounts:
                print("  demo accounts:")
                for person in ACCOUNTS_PRINTED:
                    print(f"    {person.role:8} {person.email:16} password: {DEMO_PASSWORD}")
        print(f"  chain  {local.rpc_url} (chain id 31337), contract {local.contract_address}, "
              f"splits {local.splits_address}")
        print(f"  ipfs   {local.ipfs_api_addr}")
        if use_double:
            print(f"  stripe {local.stripe_api_base} (the project's Stripe double: Checkout pages, signed webhooks)")
        else:
            print(f"  stripe {os.environ['STRIPE_API_BASE']} (real Stripe; forward webhooks with `stripe listen`)")
        if local.mail_sink is not None:
            print(f"  mail   {local.mail_sink.url} (the mail sink: every mail the app sends, SMTP on "
                  f"{local.mail_sink.host}:{local.mail_sink.smtp_port})")
        else:
            print(f"  mail   SMTP {os.environ['SMTP_HOST']} (a real mail server)")
        print()
        print(f"Marketplace running at http://{host}:{port}  (API docs at /docs; Ctrl-C stops everything)")
        if local.mail_sink is not None:
            print(f"Mail sink at {local.mail_sink.url}  (the mails the app sent: sign-up links, password resets)")
        sys.stdout.flush()
        try:
            uvicorn.run(create_app(settings, services), host=host, port=port, log_level="warning")
        except KeyboardInterrupt:
            pass
        print("\nStopping…")
    return 0
