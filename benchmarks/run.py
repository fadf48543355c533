"""`make bench`: start a private anvil, IPFS node and SQLite database, measure, print a table, write JSON.

    .venv/bin/python -m benchmarks.run            # full run (~8-10 min on 2 cores; the gallery ~4 of them)
    .venv/bin/python -m benchmarks.run --quick    # smaller N, a smoke run
    .venv/bin/python -m benchmarks.run --only gas,mint_rate --output /tmp/b.json

Every figure is measured next to the bare limit of the same part in the same run; the table prints their ratio
next to the goal. Figures only: a slow number never fails the run (a broken part does: exit code 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import traceback
from contextlib import ExitStack
from pathlib import Path

from benchmarks import (
    auth_load,
    gallery,
    gas,
    indexer,
    ipfs_serve,
    mint_rate,
    network,
    payments,
    payouts,
    payouts_double,
    upload,
    upload_memory,
)
from benchmarks.common import start_stack
from devtools.anvil import anvil_binary
from devtools.procs import REPO_ROOT

SECTIONS = {
    "gas": (gas, "Gas per mint and per edition minted", "bare = plain OZ ERC721URIStorage.mint of the same ipfs:// URIs"),
    "mint_rate": (mint_rate, "Mints per second (service minting path)",
                  "bare = raw locally signed txs from one key, send all then collect receipts"),
    "indexer": (indexer, "Chain indexer: events per second into the index (IndexerWorker.catch_up)",
                "bare = the same eth_getLogs and eth_getBlockByNumber reads as plain JSON-RPC, no database"),
    "upload_memory": (upload_memory, "Server memory during a ~50 MB upload (`marketplace serve`)",
                      "bare = minimal FastAPI app that receives the multipart upload and discards it"),
    "payments": (payments, "Card purchases: Pay on the Stripe double -> token delivered (served app, uvicorn)",
                 "bare = raw locally signed transferBatch (and safeTransferFrom) txs from one key on the same anvil"),
    "payouts_double": (payouts_double, "Payouts, Stripe side: POST /v1/transfers on the Stripe double (its own process)",
                       "bare = the same POSTs as raw form-encoded httpx requests"),
    "payouts": (payouts, "Payouts: creator credits -> Stripe transfers through the payout worker (Stripe double)",
                "bare = raw POST /v1/transfers on a fresh double of the same code, one at a time, same run"),
    "auth_load": (auth_load, "/api/health while 16 clients guess passwords (`marketplace serve`)",
                  "bare = the same endpoint on the same server with nobody guessing"),
    "gallery": (gallery, "Gallery under load: 50 concurrent clients, 10,000 works (`marketplace serve`)",
                "bare = GET /api/health of the same server in the same run"),
    "upload": (upload, "Upload speed: POST /api/works of a 20 MB and a 50 MB file (`marketplace serve`)",
               "bare = a direct /api/v0/add of a same-size file to the same IPFS node"),
    "network": (network, "The collaboration network: 1,000 creators, ~3,000 edges (`marketplace serve`, SQLite)",
                "bare = GET /api/health of the same server in the same run"),
    "ipfs_serve": (ipfs_serve, "Serving media: GET /ipfs/{cid} of a 50 MB video (`marketplace serve`)",
                   "bare = a direct /api/v0/cat of the same CID from the same IPFS node"),
}
DEFAULT_OUTPUT = REPO_ROOT / "bench-results.json"


def _fmt(value: float | None, digits: int) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def format_table(sections: dict) -> str:
    headers = ("figure", "ours", "bare limit", "ratio", "goal", "met")
    lines: list[str] = []
    for key, result in sections.items():
        _module, title, bare_note = SECTIONS[key]
        rows = []
        for f in result.get("figures", []):
            unit = f" {f['unit']}" if f["unit"] else ""
            digits = f.get("digits", 1)
            name = f["name"] + (f"  [{f['note']}]" if f.get("note") else "")
            met = "" if f["goal_met"] is None else ("yes" if f["goal_met"] else "NO")
            rows.append((name, _fmt(f["ours"], digits) + unit, _fmt(f["bare"], digits) + unit,
                         _fmt(f["ratio"], 3), f["goal"] or "-", met))
        lines.append("")
        lines.append(f"{title} ({bare_note})")
        if "error" in result:
            lines.append(f"  FAILED: {result['error']}")
            continue
        widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
        aligns = ["<", ">", ">", ">", "<", "<"]
        fmt = "  " + "  ".join(f"{{:{a}{w}}}" for a, w in zip(aligns, widths, strict=True))
        lines.append(fmt.format(*headers))
        lines.append("  " + "  ".join("-" * w for w in widths))
        lines.extend(fmt.format(*row) for row in rows)
        lines.extend(_section_notes(key, result.get("details", {})))
    return "\n".join(lines)


def _section_notes(key: str, details: dict) -> list[str]:
    """A few lines under a section's rows: where the time went."""
    if key == "upload_memory" and "direct_ipfs_add_seconds" in details:
        service_s = details["service"]["upload_seconds"]
        ipfs_s = details["direct_ipfs_add_seconds"]
        bare_s = details["bare_app"]["upload_seconds"]
        return [f"  of the service's {service_s:.2f} s, about {ipfs_s:.2f} s is the IPFS node itself (a direct "
                f"IpfsClient.add_file of a same-size file); the bare app takes {bare_s:.2f} s"]
    if key == "payments":
        return _payments_notes(details)
    if key == "payouts":
        return _payouts_notes(details)
    if key == "upload":
        return [f"  {label}: staging copy {r['staging_copy_s']:.2f} s, sniffing {r['sniff_s']:.3f} s, a SHA-256 "
                f"{r['sha256_s']:.2f} s (done during the add), our IpfsClient.add_file {r['ipfs_client_add_file_s']:.2f} s"
                for label, r in details.get("sizes", {}).items()]
    if key != "mint_rate":
        return []
    out = []
    for label in ("service_default_batch", "service_batch_1"):
        run = details.get(label)
        if not run:
            continue
        t = run["time_in"]

        def s(name: str) -> float:
            return t.get(name, {}).get("seconds", 0.0)

        total = run["seconds"]
        parts = {
            "claim+write-ahead (DB)": s("worker._claim_and_write_ahead") - s("chain.prepare_mint_batch"),
            "encode+sign": s("chain.prepare_mint_batch"),
            "send": s("chain.send"),
            "wait receipt": s("chain.wait_for_receipt") - s("chain._typed"),
            "decode receipt": s("chain._typed"),
            "settle (DB)": s("worker._confirm") + s("worker._settle"),
            "reconcile (DB)": s("worker.reconcile_submitted"),
        }
        parts["other"] = total - sum(parts.values())
        shares = ", ".join(f"{k} {v / total:.0%}" for k, v in parts.items())
        out.append(f"  time in MintWorker, batch {run['batch_size']} ({total:.2f} s): {shares}")
    return out


def _payments_notes(details: dict) -> list[str]:
    service = details.get("service")
    if not service:
        return []
    w = service["worker"]
    t = w["time_in"]

    def s(name: str) -> float:
        return t.get(name, {}).get("seconds", 0.0)

    hooks = service.get("webhooks", {})
    answer_ms = hooks.get("response_ms", {}).get("mean") or 0.0
    out = [(f"  pipeline ({service['n']} sales): Pay clicks done {service['pay_clicks_done_s']:.2f} s, last webhook "
            f"recorded (paid) {service['last_paid_s']:.2f} s, last delivered {service['last_delivered_s']:.2f} s; "
            f"{hooks.get('attempts', 0)} webhook POSTs, the app answers in {answer_ms:.1f} ms mean "
            f"({hooks.get('busy_s', 0):.2f} s summed over the double's 4 concurrent senders)")]
    busy = w["worker_busy_s"] or 1e-9
    parts = {
        "claim": s("worker._claim"),
        "start (owner, gas, sign, write-ahead, send)": s("worker._start_delivery"),
        "wait receipt": s("chain.wait_for_receipt"),
        "settle (DB; owner and logs when unsure)": s("worker._settle_many"),
        "reconcile+refunds": s("worker.reconcile_submitted") + s("worker.refund_owed"),
    }
    shares = ", ".join(f"{k} {v / busy:.0%}" for k, v in parts.items())
    out.append(f"  DeliveryWorker busy {busy:.2f} s: {shares}")
    rpc = ", ".join(f"{m} {v['per_delivery']:g}" for m, v in list(w["rpc_by_method"].items())[:8])
    out.append(f"  per delivery: {w['rpc_calls_per_delivery']:g} RPC calls ({w['rpc_seconds'] / busy:.0%} of busy "
               f"time: {rpc}), {w['sql_statements_per_delivery']:g} SQL statements + "
               f"{w['sql_commits_per_delivery']:g} commits ({w['sql_seconds'] / busy:.0%}), gas top-ups {w['topups']}")
    warnings = service.get("worker_warnings", {})
    if warnings.get("count"):
        out.append(f"  delivery worker logged {warnings['count']} warning(s)/error(s), e.g. {warnings['first'][0]}")
    return out


def _payouts_notes(details: dict) -> list[str]:
    out = []
    double = details.get("double", {})
    if double:
        rates = ", ".join(f"{k.replace('_', ' ')} {v['per_s']:.0f}/s" for k, v in double.items()
                          if isinstance(v, dict) and "per_s" in v)
        out.append(f"  the double alone ({details['entries']} transfers each): {rates}")
    for label in ("sqlite", "sqlite_charge_known", "postgres"):
        run = details.get(label)
        if not run:
            continue
        p = run["profile"]
        per = p["ms_per_transfer"]
        total = sum(per.values()) or 1e-9
        shares = ", ".join(f"{k} {v:.1f} ms ({v / total:.0%})" for k, v in per.items() if v >= 0.05)
        out.append(f"  {label}: {run['entries']} transfers in {run['seconds']:.2f} s, per transfer {total:.1f} ms: "
                   f"{shares}; {p['stripe_calls_per_transfer']:g} Stripe calls, "
                   f"{p['sql_statements_per_transfer']:g} SQL statements + {p['sql_commits_per_transfer']:g} commits "
                   f"({1000 * p['sql_seconds'] / run['entries']:.1f} ms in the driver), "
                   f"{p.get('pool_checkouts_per_transfer', 0):g} sessions")
    return out


def _meta(quick: bool) -> dict:
    def cmd(*args: str) -> str | None:
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=10, cwd=REPO_ROOT,
                                  check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    return {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "git_commit": cmd("git", "rev-parse", "HEAD"),
        "git_dirty": bool(cmd("git", "status", "--porcelain", "--untracked-files=no")),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],  # other work on the machine skews figures
        "anvil": cmd(str(anvil_binary()), "--version"),
    }


def run(*, quick: bool, only: list[str], output: Path, log=print) -> int:
    results: dict = {"meta": _meta(quick), "sections": {}}
    t_start = time.perf_counter()
    failed = False
    interrupted = False
    try:
        with ExitStack() as stack:
            log("Starting anvil, IPFS and SQLite…")
            bench_stack = start_stack(stack, log=log)
            for key in only:
                module, title, _ = SECTIONS[key]
                log(f"{title}…")
                t0 = time.perf_counter()
                try:
                    figures, details = module.run(bench_stack, quick=quick, log=log)
                    results["sections"][key] = {
                        "figures": [{**f.as_json(), "digits": f.digits} for f in figures],
                        "details": details,
                        "seconds": round(time.perf_counter() - t0, 2),
                    }
                except Exception as exc:  # a broken part: record it, go on with the others, exit 1
                    failed = True
                    traceback.print_exc()
                    results["sections"][key] = {"error": f"{type(exc).__name__}: {exc}",
                                                "seconds": round(time.perf_counter() - t0, 2)}
            log("Stopping anvil and IPFS…")
    except KeyboardInterrupt:
        interrupted = True
        log("\nInterrupted: everything started was stopped.")
    except Exception as exc:  # the stack itself could not start
        failed = True
        traceback.print_exc()
        results["error"] = f"{type(exc).__name__}: {exc}"
    results["meta"]["duration_s"] = round(time.perf_counter() - t_start, 1)
    results["meta"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    results["meta"]["interrupted"] = interrupted

    table = format_table(results["sections"])
    log(table)
    log(f"\nTotal {results['meta']['duration_s']:.0f} s{' (quick)' if quick else ''}; figures in {output}")
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if interrupted:
        return 130
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller N: a smoke run")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {list(SECTIONS)}")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file (default: %(default)s)")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if threading.current_thread() is threading.main_thread():
        # `kill` stops us like Ctrl-C: the ExitStack stops anvil, IPFS and the servers
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    return run(quick=args.quick, only=only, output=args.output)


if __name__ == "__main__":
    sys.exit(main())
