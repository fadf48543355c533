"""6. `/api/health` latency while 16 clients guess passwords, against the same endpoint with nobody guessing.

The real service (`marketplace serve`, uvicorn, a subprocess) on a fresh SQLite database. One prober thread asks
`/api/health` over a keep-alive connection every ~5 ms and records each round trip; 16 attacker clients (asyncio,
one thread, one connection each) POST wrong passwords to `/api/auth/token` as fast as they are answered. Three runs:

- bare: nobody guessing (the bare limit of the same endpoint on the same server);
- guessing, default limits: the production settings (per-e-mail and per-address limits, slowed failures), so
  most guesses are refused with 429 before any hashing;
- guessing, limits lifted: no rate limit and no failure delay, so every guess runs Argon2: what the dedicated,
  bounded hashing pool (PASSWORD_HASH_WORKERS, PASSWORD_HASH_QUEUE) alone protects.

Figures, not assertions (goal: p99 under 50 ms while guessing). Measured on main before the pool: 131 ms median.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from benchmarks.common import BenchStack, Figure, start_subprocess, stop_proc
from devtools.procs import pick_free_port
from marketplace.core.config import Settings
from marketplace.core.migrate import upgrade

SECTION = "auth load"
ATTACKERS = 16
PROBE_INTERVAL_S = 0.005
_SETTING_NAMES = {name.upper() for name in Settings.model_fields}  # never inherit settings from the caller's shell
LIFTED = {"RATE_LIMIT_SIGNIN": "1000000/minute", "RATE_LIMIT_SIGNIN_ADDRESS": "1000000/minute",
          "SIGNIN_FAILURE_DELAY_S": "0"}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class _Server:
    def __init__(self, work: Path, stack: BenchStack, name: str, extra_env: dict[str, str]) -> None:
        self.port = pick_free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        db_url = f"sqlite:///{work / f'{name}.db'}"
        upgrade(db_url)
        env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTING_NAMES}
        env.update({"ENV": "test", "RUN_MAIL_WORKER": "false", "DATABASE_URL": db_url, "RPC_URL": stack.rpc_url,
                    "IPFS_API_URL": stack.ipfs.api_addr, "DATA_DIR": str(work / f"{name}-data"),
                    "PUBLIC_BASE_URL": self.url, "RUN_MINT_WORKER": "false", "RUN_DELIVERY_WORKER": "false",
                    **extra_env})
        self.log_path = stack.tmp / "logs" / f"auth-load-{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = start_subprocess([sys.executable, "-m", "marketplace.cli", "serve", "--host", "127.0.0.1",
                                      "--port", str(self.port)], env=env, log_path=self.log_path, cwd=work)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                stop_proc(self.proc)
                raise RuntimeError("the service did not answer within 60 s")
            time.sleep(0.05)

    def stop(self) -> None:
        stop_proc(self.proc)


def _probe(url: str, seconds: float) -> list[float]:
    """Sequential /api/health round trips (ms) for `seconds`."""
    samples: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(20):  # warm the connection and the route
            client.get("/api/health")
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            r = client.get("/api/health")
            samples.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"/api/health answered {r.status_code}")
            time.sleep(PROBE_INTERVAL_S)
    return samples


def _attack(url: str, stop: threading.Event, statuses: Counter) -> None:
    async def one(k: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = await client.post("/api/auth/token", data={"username": f"victim-{k}@example.lu",
                                                                   "password": f"guess-{i}"})
                    statuses[r.status_code] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1

    async def main() -> None:
        await asyncio.gather(*(one(k) for k in range(ATTACKERS)))

    asyncio.run(main())


def _under_attack(url: str, seconds: float) -> tuple[list[float], dict]:
    stop = threading.Event()
    statuses: Counter = Counter()
    attackers = threading.Thread(target=_attack, args=(url, stop, statuses), daemon=True, name="attackers")
    attackers.start()
    time.sleep(1.0)  # let the flood build up
    t0 = time.perf_counter()
    samples = _probe(url, seconds)
    elapsed = time.perf_counter() - t0
    before = sum(statuses.values())
    stop.set()
    attackers.join(90)
    return samples, {"guesses_per_s": round(before / (elapsed + 1.0), 1),
                     "answers": {str(k): v for k, v in sorted(statuses.items(), key=str)}}


def _stats(samples: list[float]) -> dict:
    return {"n": len(samples), "p50_ms": round(statistics.median(samples), 2), "p99_ms": round(_pct(samples, 99), 2),
            "max_ms": round(max(samples), 2)}


def run(stack: BenchStack, *, quick: bool, log=print) -> tuple[list[Figure], dict]:
    seconds = 3.0 if quick else 10.0
    work = stack.tmp / "auth-load"
    work.mkdir(exist_ok=True)
    details: dict = {"attackers": ATTACKERS, "probe_seconds": seconds, "load_average_at_start": os.getloadavg(),
                     "password_hash_workers": Settings.model_fields["password_hash_workers"].default,
                     "password_hash_queue": Settings.model_fields["password_hash_queue"].default,
                     "password_hash_nice": Settings.model_fields["password_hash_nice"].default}

    server = _Server(work, stack, "defaults", {})
    try:
        alone = _probe(server.url, seconds)
        details["bare"] = _stats(alone)
        log(f"  /api/health alone: p50 {details['bare']['p50_ms']:.1f} ms, p99 {details['bare']['p99_ms']:.1f} ms")
        limited, limited_info = _under_attack(server.url, seconds)
        details["guessing_default_limits"] = {**_stats(limited), **limited_info}
    finally:
        server.stop()
    log(f"  while {ATTACKERS} clients guess (default limits): p50 {statistics.median(limited):.1f} ms, "
        f"p99 {_pct(limited, 99):.1f} ms; answers {limited_info['answers']}")

    server = _Server(work, stack, "lifted", LIFTED)
    try:
        hashed, hashed_info = _under_attack(server.url, seconds)
        details["guessing_limits_lifted"] = {**_stats(hashed), **hashed_info}
    finally:
        server.stop()
    log(f"  while {ATTACKERS} clients guess (limits lifted, every guess hashed): p50 "
        f"{statistics.median(hashed):.1f} ms, p99 {_pct(hashed, 99):.1f} ms; {hashed_info['guesses_per_s']} "
        f"guesses/s, answers {hashed_info['answers']}")

    p50_alone, p99_alone = statistics.median(alone), _pct(alone, 99)
    note = f"{ATTACKERS} clients, wrong passwords"
    figures = [
        Figure(SECTION, "health p99 while guessing, limits lifted (every guess hashed)", _pct(hashed, 99),
               p99_alone, unit="ms", goal="< 50", goal_on="ours", note=note),
        Figure(SECTION, "health p50 while guessing, limits lifted", statistics.median(hashed), p50_alone,
               unit="ms", digits=2),
        Figure(SECTION, "health p99 while guessing, default limits", _pct(limited, 99), p99_alone, unit="ms",
               goal="< 50", goal_on="ours", note="production settings: slowed failures, then 429"),
        Figure(SECTION, "health p50 while guessing, default limits", statistics.median(limited), p50_alone,
               unit="ms", digits=2),
    ]
    return figures, details
