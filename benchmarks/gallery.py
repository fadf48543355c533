"""5. The gallery under load: 50 concurrent clients reading `/api/works` (and `/`) with 10,000 works in the catalog,
against a bare endpoint of the same app (`/api/health`) on the same server, in the same run; SQLite and PostgreSQL.

The app runs as `marketplace serve` (one uvicorn process, as in production, workers off: they run in their own
process there) against a database seeded straight through SQL (accounts and works as rows; the search index is
kept by the database's own triggers, as for every insert). The load generator is this process: 50 keep-alive
HTTP/1.1 connections on asyncio (a minimal client: it parses the status line and Content-Length, so the client's
own cost stays small next to the server's), a fixed number of requests per case, bounded in time. Every answer
must be 200, or the section fails.

Latency is per request, from writing it to having read the whole body; p50/p99 over the measured requests
(after a warm-up). The bare endpoint is measured before and after the gallery cases; the better p99 counts.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import psycopg
from sqlalchemy import insert

from benchmarks.common import BenchStack, Figure, stop_proc
from benchmarks.upload_memory import _SETTING_NAMES, _start_server
from devtools.procs import pick_free_port
from marketplace.accounts.models import Account
from marketplace.catalog.models import Work
from marketplace.core.config import DISCIPLINES, LICENSES
from marketplace.core.db import make_engine
from marketplace.core.migrate import upgrade

SECTION = "gallery"
GOAL = "<= 3"
CONCURRENCY = 50
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SEARCH_WORD = "lighthouse"  # in ~2 % of the titles
WORDS = ("river night album cover poster theme portrait garden winter summer ocean city forest light shadow dream "
         "echo silence colour paper glass stone wind fire water island mountain street market train station "
         "window door bridge tower harbour field meadow cloud storm rain snow sun moon star morning evening "
         "blue red green golden silver black white quiet loud slow fast little grand old new hidden lost").split()
NAMES = ("Anna Luc Marie Jean Sofia Paul Léa Tom Inès Max Clara Hugo Zoé Noah Emma Louis Chloé Jules Alice "
         "Nora").split()
SURNAMES = "Schmit Weber Muller Wagner Hoffmann Becker Klein Schneider Fischer Meyer Reuter Thill Kieffer".split()


# ------------------------------------------------------------------------------------------------ seeding
def seed(url: str, *, works: int, creators: int, rng: random.Random) -> None:
    """`creators` creator accounts and `works` works (95 % published, 5 % drafts) as plain rows."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            accounts = [{"email": f"creator{i}@bench.example", "display_name":
                         f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}", "role": "creator",
                         "password_hash": "!", "created_at": now} for i in range(creators)]
            conn.execute(insert(Account.__table__), accounts)
            rows = []
            for i in range(works):
                title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4))).capitalize()
                if rng.random() < 0.02:
                    title += f" {SEARCH_WORD}"
                minted = rng.random() < 0.95
                digest = f"{i:064x}"
                rows.append({
                    "title": title, "description": " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30))),
                    "discipline": rng.choice(DISCIPLINES), "license": rng.choice(LICENSES),
                    "price_cents": rng.randint(100, 500_000), "currency": "EUR", "royalty_bps": 500,
                    "creator_id": rng.randint(1, creators), "status": "minted" if minted else "draft",
                    "sale_status": "available", "media_cid": f"bafkreibench{i:020d}", "media_mime": "image/png",
                    "media_kind": "image", "media_size": 123_456, "media_sha256": digest, "media_filename": "a.png",
                    "thumbnail_cid": f"bafkreithumb{i:020d}", "width": 1200, "height": 800,
                    "metadata_cid": f"bafkreimeta{i:020d}" if minted else None,
                    "token_id": str(10**20 + i) if minted else None,
                    "contract_address": "0x" + "ab" * 20 if minted else None, "chain_id": 31337 if minted else None,
                    "owner_address": "0x" + "cd" * 20 if minted else None,
                    "mint_tx_hash": "0x" + digest if minted else None, "mint_error": None,
                    "minted_at": now if minted else None,
                    "created_at": now - timedelta(seconds=works - i), "updated_at": now,
                })
                if len(rows) == 1000:
                    conn.execute(insert(Work.__table__), rows)
                    rows = []
            if rows:
                conn.execute(insert(Work.__table__), rows)
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------------ load
async def _connection(host: str, port: int, paths: list[str], next_index, latencies: list[float], deadline: float):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while (i := next_index()) is not None and time.perf_counter() < deadline:
            request = f"GET {paths[i % len(paths)]} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n".encode()
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = None
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length is None:
                raise RuntimeError(f"no Content-Length in the answer to {paths[i % len(paths)]}: {head[:300]!r}")
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"GET {paths[i % len(paths)]} answered {status}: {body[:300]!r}")
    finally:
        writer.close()


def load(base_url: str, paths: list[str], *, requests: int, concurrency: int, max_seconds: float) -> dict:
    """`requests` GETs over `concurrency` keep-alive connections (cycling through `paths`), at most `max_seconds`."""
    host, port = base_url.removeprefix("http://").split(":")
    latencies: list[float] = []
    counter = iter(range(requests))

    def next_index():
        return next(counter, None)

    async def main() -> float:
        deadline = time.perf_counter() + max_seconds
        t0 = time.perf_counter()
        await asyncio.gather(*(_connection(host, int(port), paths, next_index, latencies, deadline)
                               for _ in range(concurrency)))
        return time.perf_counter() - t0

    wall = asyncio.run(main())
    ms = sorted(v * 1000 for v in latencies)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, max(0, round(p / 100 * len(ms)) - 1))]

    return {"requests": len(ms), "seconds": wall, "per_s": len(ms) / wall, "p50_ms": pct(50), "p90_ms": pct(90),
            "p99_ms": pct(99), "max_ms": ms[-1], "mean_ms": statistics.fmean(ms), "paths": paths[:3]}


# ------------------------------------------------------------------------------------------------ the run
def _cases(rng: random.Random) -> dict[str, list[str]]:
    pages = [f"/api/works?{urlencode({'page': p})}" for p in (1, 2, 3, 5, 10)]
    return {
        "GET /api/works (newest, pages 1-10)": pages,
        "GET /api/works?q=<a word in 2 % of the works>": [f"/api/works?{urlencode({'q': SEARCH_WORD})}"],
        "GET /api/works?q=<common words: in 5-30 % of the works>": [
            f"/api/works?{urlencode({'q': w})}" for w in ("ocean", "golden river", "stat")],
        "GET /api/works with filters + sort": [
            f"/api/works?{urlencode({'discipline': d, 'sort': s, 'max_price_cents': 200_000})}"
            for d, s in zip(rng.sample(DISCIPLINES, 3), ("price_asc", "price_desc", "title"), strict=True)],
        "GET / (HTML gallery page)": ["/", "/?page=2", "/?q=ocean"],
    }


def _measure_database(label: str, url: str, stack: BenchStack, *, quick: bool, log) -> dict:
    n_works = 200 if quick else 10_000
    requests = 100 if quick else 1_000
    max_seconds = 15.0 if quick else 30.0
    rng = random.Random(8)
    t0 = time.perf_counter()
    seed(url, works=n_works, creators=20 if quick else 200, rng=rng)
    log(f"  {label}: {n_works} works seeded in {time.perf_counter() - t0:.1f} s")
    work_dir = stack.tmp / f"gallery-{label}"
    work_dir.mkdir()
    port = pick_free_port()
    base_env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTING_NAMES}
    env = {**base_env, "ENV": "test", "RUN_MAIL_WORKER": "false", "DATABASE_URL": url, "RPC_URL": stack.rpc_url,
           "IPFS_API_URL": stack.ipfs.api_addr, "DATA_DIR": str(work_dir / "data"),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "RUN_MINT_WORKER": "false",
           "RUN_DELIVERY_WORKER": "false"}
    server = _start_server(f"gallery-{label}", [sys.executable, "-m", "marketplace.cli", "serve", "--host",
                                                "127.0.0.1", "--port", str(port)], env, work_dir, port,
                           stack.tmp / "logs")
    try:
        results: dict = {"works": n_works}
        cases = _cases(rng)
        warm = [p for paths in cases.values() for p in paths]
        load(server.base_url, warm, requests=len(warm) * 3, concurrency=4, max_seconds=30)  # imports, caches
        bare = [load(server.base_url, ["/api/health"], requests=requests, concurrency=CONCURRENCY,
                     max_seconds=max_seconds)]
        for name, paths in cases.items():
            results[name] = load(server.base_url, paths, requests=requests, concurrency=CONCURRENCY,
                                 max_seconds=max_seconds)
            r = results[name]
            log(f"  {label} {name}: {r['per_s']:.0f}/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms")
        bare.append(load(server.base_url, ["/api/health"], requests=requests, concurrency=CONCURRENCY,
                         max_seconds=max_seconds))
        results["bare_runs"] = bare
        results["bare"] = min(bare, key=lambda r: r["p99_ms"])
        b = results["bare"]
        log(f"  {label} /api/health: {b['per_s']:.0f}/s, p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms")
        return results
    finally:
        stop_proc(server.proc)


def _figures(label: str, results: dict) -> list[Figure]:
    bare = results["bare"]
    out = []
    for name, r in results.items():
        if not isinstance(r, dict) or "p99_ms" not in r or name in ("bare",):
            continue
        note = f"{label}, {results['works']} works, {CONCURRENCY} clients"
        out += [
            Figure(SECTION, f"{name} p99", r["p99_ms"], bare["p99_ms"], unit="ms", goal=GOAL, note=note),
            Figure(SECTION, f"{name} p50", r["p50_ms"], bare["p50_ms"], unit="ms", note=label),
            Figure(SECTION, f"{name} requests/s", r["per_s"], bare["per_s"], unit="/s", digits=0, note=label),
        ]
    return out


def run(stack: BenchStack, *, quick: bool, log=print) -> tuple[list[Figure], dict]:
    details: dict = {"concurrency": CONCURRENCY}
    figures: list[Figure] = []
    sqlite_url = f"sqlite:///{stack.tmp / 'gallery.db'}"
    upgrade(sqlite_url)
    details["sqlite"] = _measure_database("sqlite", sqlite_url, stack, quick=quick, log=log)
    figures += _figures("sqlite", details["sqlite"])

    name = f"bench_gallery_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        pg_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        upgrade(pg_url)
        details["postgres"] = _measure_database("postgres", pg_url, stack, quick=quick, log=log)
        figures += _figures("postgres", details["postgres"])
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return figures, details
