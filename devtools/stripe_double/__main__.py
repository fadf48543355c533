"""`python -m devtools.stripe_double --port 12111 --webhook-url URL --webhook-secret whsec_...`"""

from __future__ import annotations

import argparse
import os

import uvicorn

from devtools.stripe_double.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.stripe_double",
                                     description="Run the Stripe double (a Stripe-compatible test server).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=os.environ.get("STRIPE_DOUBLE_WEBHOOK_URL"),
                        help="where events are POSTed (default: none, events are only recorded)")
    parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET"),
                        help="signing secret (default: $STRIPE_WEBHOOK_SECRET)")
    parser.add_argument("--connect-webhook-url", default=os.environ.get("STRIPE_DOUBLE_CONNECT_WEBHOOK_URL"),
                        help="where Connect events (account.updated, payout.*) go (default: --webhook-url)")
    parser.add_argument("--connect-webhook-secret", default=os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET"),
                        help="signing secret of the Connect endpoint (default: --webhook-secret)")
    parser.add_argument("--public-url", help="base URL browsers use (default: http://HOST:PORT)")
    parser.add_argument("--api-key-prefix", default="sk_test_")
    parser.add_argument("--enabled-events", default="*", help="comma-separated types or patterns (default: *)")
    parser.add_argument("--retry-initial-delay", type=float, default=0.5)
    parser.add_argument("--retry-max-delay", type=float, default=30.0)
    parser.add_argument("--max-attempts", type=int, default=8)
    parser.add_argument("--delivery-timeout", type=float, default=5.0)
    parser.add_argument("--delivery-workers", type=int, default=1,
                        help="webhooks delivered concurrently (Stripe: several; default 1, in order)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if not args.webhook_secret:
        parser.error("--webhook-secret (or $STRIPE_WEBHOOK_SECRET) is required")

    app = create_app(
        webhook_url=args.webhook_url, webhook_secret=args.webhook_secret,
        public_url=args.public_url or f"http://{args.host}:{args.port}", api_key_prefix=args.api_key_prefix,
        enabled_events=[e.strip() for e in args.enabled_events.split(",") if e.strip()],
        retry_initial_delay=args.retry_initial_delay, retry_max_delay=args.retry_max_delay,
        max_attempts=args.max_attempts, delivery_timeout=args.delivery_timeout, delivery_workers=args.delivery_workers,
        connect_webhook_url=args.connect_webhook_url, connect_webhook_secret=args.connect_webhook_secret)
    print(f"Stripe double on http://{args.host}:{args.port} (webhooks -> {args.webhook_url or 'nowhere'})")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
