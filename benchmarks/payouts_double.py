"""Payouts, the Stripe side's bare limit: transfers per second the Stripe double itself takes.

What the payouts worker's own bench (section `payouts`) compares against: its creator transfers per second can be
no faster than the double accepts `POST /v1/transfers`. Measured here with nothing else in the way:

- the double in its own process (`python -m devtools.stripe_double`, as Stripe is remote; no webhook endpoint, so
  the `transfer.created` events are recorded, not sent);
- setup, not timed: one Express account onboarded (the `/_double/` control), one Checkout Session paid on the
  hosted page, whose charge is every transfer's `source_transaction`;
- timed: N transfers of 1.00 EUR, each with its own `Idempotency-Key` (as the worker sends them), through the real
  `stripe` SDK: one client in sequence, then `CLIENTS` clients at once (a thread and a StripeClient each). Bare:
  the same N as raw form-encoded httpx POSTs, in sequence and `CLIENTS` at once (the SDK's own cost is the
  difference).

Figures only, no goal: `double_transfer_rate()` is the function a comparison calls (`raw_concurrent` is the most
the double takes).

    .venv/bin/python -m benchmarks.payouts_double [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import stripe

from benchmarks.common import Figure, start_subprocess
from devtools.procs import REPO_ROOT, pick_free_port, stop_process, wait_until

SECTION = "payouts_double"
API_KEY = "sk_test_bench_payouts_double_000000"
CLIENTS = 4
AMOUNT = 100  # cents per transfer


class _Double:
    """The double in its own process, without a webhook endpoint."""

    def __init__(self, log_dir: Path, cleanup: ExitStack) -> None:
        port = pick_free_port()
        self.api_base = f"http://127.0.0.1:{port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / "stripe-double-payouts.log"
        args = [sys.executable, "-m", "devtools.stripe_double", "--port", str(port), "--log-level", "warning",
                "--webhook-secret", "whsec_bench_payouts_double_0000"]
        self.proc = start_subprocess(args, env=dict(os.environ), log_path=log_path, cwd=REPO_ROOT)
        cleanup.callback(self.stop)
        self.http = httpx.Client(base_url=self.api_base, timeout=60, trust_env=False)

        def ready() -> bool:
            try:
                return self.http.get("/_double/health").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=30, what="the Stripe double", proc=self.proc, log=log_path)

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(API_KEY, base_addresses={"api": self.api_base}, max_network_retries=0)

    def stop(self) -> None:
        self.http.close()
        stop_process(self.proc)


def _setup(double: _Double, n: int) -> tuple[str, str]:
    """An onboarded account and a paid charge large enough for every transfer of the run: (account, charge)."""
    client = double.client()
    account = client.v1.accounts.create(params={"type": "express", "country": "LU", "email": "bench@example.lu",
                                                "capabilities": {"transfers": {"requested": True}}})
    double.http.post(f"/_double/accounts/{account.id}/complete_onboarding").raise_for_status()
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "http://127.0.0.1:9/done",
        "line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": AMOUNT * n,
                                                      "product_data": {"name": "bench"}}}]})
    assert double.http.post(f"/pay/{session.id}/pay").status_code == 303
    paid = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    return account.id, paid.payment_intent.latest_charge


def _sdk_transfers(double: _Double, account: str, charge: str, keys: list[str]) -> None:
    client = double.client()
    for key in keys:
        client.v1.transfers.create(params={"amount": AMOUNT, "currency": "eur", "destination": account,
                                           "source_transaction": charge, "transfer_group": key},
                                   options={"idempotency_key": key})


def _raw_transfers(double: _Double, account: str, charge: str, keys: list[str]) -> None:
    with httpx.Client(base_url=double.api_base, timeout=60, trust_env=False,
                      headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        for key in keys:
            r = http.post("/v1/transfers", data={"amount": AMOUNT, "currency": "eur", "destination": account,
                                                 "source_transaction": charge, "transfer_group": key},
                          headers={"Idempotency-Key": key})
            if r.status_code != 200:
                raise RuntimeError(f"transfer refused: {r.status_code} {r.text[:200]}")


def _timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def _concurrent(fn, double: _Double, account: str, charge: str, tag: str, n: int, clients: int) -> float:
    """`n` transfers shared by `clients` threads started together: the seconds until the last one is done."""
    shares = [[f"{tag}-{c}-{i}" for i in range(c, n, clients)] for c in range(clients)]
    errors: list[BaseException] = []

    def worker(keys: list[str]) -> None:
        try:
            fn(double, account, charge, keys)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(keys,)) for keys in shares]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return seconds


def double_transfer_rate(*, n: int = 300, clients: int = CLIENTS, log_dir: Path | None = None) -> dict:
    """Transfers per second the double accepts: `sdk_sequential`, `sdk_concurrent` (`clients` at once),
    `raw_sequential` and `raw_concurrent`, each `{"n", "seconds", "per_s"}`; checked afterwards: the double holds 4 n transfers."""
    with ExitStack() as cleanup:
        if log_dir is None:
            log_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-payouts-double-")))
        double = _Double(log_dir, cleanup)
        account, charge = _setup(double, 4 * n + 5)
        _sdk_transfers(double, account, charge, [f"warm-{i}" for i in range(5)])  # imports, connections
        results: dict = {}

        seconds = _timed(_sdk_transfers, double, account, charge, [f"seq-{i}" for i in range(n)])
        results["sdk_sequential"] = {"n": n, "seconds": seconds, "per_s": n / seconds}

        seconds = _concurrent(_sdk_transfers, double, account, charge, "con", n, clients)
        results["sdk_concurrent"] = {"n": n, "clients": clients, "seconds": seconds, "per_s": n / seconds}

        seconds = _timed(_raw_transfers, double, account, charge, [f"raw-{i}" for i in range(n)])
        results["raw_sequential"] = {"n": n, "seconds": seconds, "per_s": n / seconds}

        seconds = _concurrent(_raw_transfers, double, account, charge, "rawcon", n, clients)
        results["raw_concurrent"] = {"n": n, "clients": clients, "seconds": seconds, "per_s": n / seconds}

        listed = double.client().v1.transfers.list(params={"destination": account, "limit": 1})
        balance = double.client().v1.balance.retrieve(options={"stripe_account": account})
        held = balance.available[0].amount // AMOUNT - 5  # the warm-up transfers
        if held != 4 * n or not listed.data:
            raise RuntimeError(f"the double holds {held} transfers, expected {4 * n}")
        results["transfers_checked"] = held
        return results


def run(stack, *, quick: bool, log=print) -> tuple[list[Figure], dict]:
    n = 100 if quick else 600
    log(f"  {n} transfers on the Stripe double: sequential, {CLIENTS} clients, raw")
    details = double_transfer_rate(n=n, log_dir=Path(stack.tmp) / "logs")
    figures = [
        Figure(SECTION, "double: POST /v1/transfers through the SDK, 1 client", details["sdk_sequential"]["per_s"],
               details["raw_sequential"]["per_s"], unit="transfers/s", note=f"N={n}"),
        Figure(SECTION, f"double: POST /v1/transfers through the SDK, {CLIENTS} clients",
               details["sdk_concurrent"]["per_s"], details["raw_concurrent"]["per_s"], unit="transfers/s",
               note=f"N={n}"),
    ]
    return figures, details


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.payouts_double", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller N")
    args = parser.parse_args(argv)
    n = 100 if args.quick else 600
    details = double_transfer_rate(n=n)
    for label in ("sdk_sequential", "sdk_concurrent", "raw_sequential", "raw_concurrent"):
        r = details[label]
        print(f"{label:15} {r['per_s']:8.1f} transfers/s  ({r['n']} in {r['seconds']:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
