"""7. Serving media: a 50 MB video read through `GET /ipfs/{cid}` (`marketplace serve`), against a direct `cat` of
the same CID from the same IPFS node (its RPC `/api/v0/cat`), both streamed by httpx to the end and counted.

The video is added to the node directly and recorded as a minted work's media (a row), so the app serves it as
it serves any published work. Rounds alternate which read goes first; the medians count.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import insert

from benchmarks.common import BenchStack, Figure, stop_proc
from benchmarks.upload_memory import _SETTING_NAMES, _start_server
from devtools.procs import pick_free_port
from marketplace.accounts.models import Account
from marketplace.catalog.models import Work
from marketplace.core.db import make_engine
from marketplace.core.migrate import upgrade
from marketplace.integrations.ipfs.client import IpfsClient

SECTION = "ipfs serve"
MB = 1_000_000
TIMEOUT = httpx.Timeout(300.0, connect=10.0)


def write_mp4(path, size: int):
    """An MP4-looking file (an `ftyp` box, then random bytes) of exactly `size` bytes."""
    with path.open("wb") as f:
        f.write(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
        left = size - 24
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            f.write(chunk)
            left -= len(chunk)
    return path


def read_all(client: httpx.Client, method: str, url: str, **kwargs) -> tuple[float, int]:
    t0 = time.perf_counter()
    size = 0
    with client.stream(method, url, **kwargs) as r:
        if r.status_code != 200:
            raise RuntimeError(f"{method} {url} answered {r.status_code}: {r.read()[:300]!r}")
        for chunk in r.iter_raw():
            size += len(chunk)
    return time.perf_counter() - t0, size


def run(stack: BenchStack, *, quick: bool, log=print) -> tuple[list[Figure], dict]:
    size = 2 * MB if quick else 50 * MB
    rounds = 1 if quick else 3
    work = stack.tmp / "ipfs-serve"
    work.mkdir()
    video = write_mp4(work / "video.mp4", size)
    with IpfsClient(stack.ipfs.api_addr, timeout_s=120) as ipfs:
        cid = ipfs.add_file(video)
    db_url = f"sqlite:///{work / 'service.db'}"
    upgrade(db_url)
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(Account.__table__), [{"email": "serve@bench.example", "display_name": "Bench Video",
                                                  "role": "creator", "password_hash": "!", "created_at": now}])
        conn.execute(insert(Work.__table__), [{
            "title": "Bench video", "description": "", "discipline": "film", "license": "CC0-1.0",
            "price_cents": 1000, "currency": "EUR", "royalty_bps": 0, "creator_id": 1, "status": "minted",
            "sale_status": "available", "media_cid": cid, "media_mime": "video/mp4", "media_kind": "video",
            "media_size": size, "media_sha256": "0" * 64, "media_filename": "video.mp4", "token_id": "1",
            "created_at": now, "updated_at": now}])
    engine.dispose()
    port = pick_free_port()
    base_env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTING_NAMES}
    env = {**base_env, "ENV": "test", "RUN_MAIL_WORKER": "false", "DATABASE_URL": db_url, "RPC_URL": stack.rpc_url,
           "IPFS_API_URL": stack.ipfs.api_addr, "DATA_DIR": str(work / "data"),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "RUN_MINT_WORKER": "false", "RUN_DELIVERY_WORKER": "false"}
    service = _start_server("ipfs-serve", [sys.executable, "-m", "marketplace.cli", "serve", "--host", "127.0.0.1",
                                           "--port", str(port)], env, work, port, stack.tmp / "logs")
    ours, bare = [], []
    try:
        with httpx.Client(timeout=TIMEOUT) as client:
            def via_app() -> float:
                seconds, n = read_all(client, "GET", f"{service.base_url}/ipfs/{cid}")
                if n != size:
                    raise RuntimeError(f"/ipfs/{cid} sent {n} bytes, not {size}")
                return seconds

            def direct() -> float:
                seconds, n = read_all(client, "POST", f"{stack.ipfs.api_url}/api/v0/cat", params={"arg": cid})
                if n != size:
                    raise RuntimeError(f"the node's cat sent {n} bytes, not {size}")
                return seconds

            direct()  # warm-up: the node's block cache, the app's imports
            via_app()
            for i in range(rounds):
                for fn in ((direct, via_app) if i % 2 == 0 else (via_app, direct)):
                    (bare if fn is direct else ours).append(fn())
    finally:
        stop_proc(service.proc)
    o, b = statistics.median(ours), statistics.median(bare)
    log(f"  /ipfs/{{cid}} {o:.2f} s (runs {', '.join(f'{v:.2f}' for v in ours)}), direct cat {b:.2f} s "
        f"(runs {', '.join(f'{v:.2f}' for v in bare)})")
    label = f"{size / MB:.0f} MB video"
    figures = [
        Figure(SECTION, f"GET /ipfs/{{cid}} of a {label} vs direct /api/v0/cat", o, b, unit="s", digits=2,
               note=f"median of {rounds}"),
        Figure(SECTION, f"{label} throughput", size / MB / o, size / MB / b, unit="MB/s"),
    ]
    return figures, {"bytes": size, "cid": cid, "app_s": ours, "direct_cat_s": bare}
