"""6. Upload speed: a 20 MB and a 50 MB file through `POST /api/works` (`marketplace serve`), against a direct add of
a file of the same size to the same IPFS node (its RPC `/api/v0/add`, same options, streamed by httpx).

Every round writes fresh random WAV files (the node never deduplicates a measurement), then runs the bare add and
the API upload one after the other, alternating which goes first; the medians over the rounds count. The API time
is the client's wall time from the first byte sent to the 201 answer: the multipart parse, the staging copy, the
type sniffing, the IPFS add (hashing on the way) and the insert.

Context (in this process, same files): where an upload's time goes outside the node -- the staging copy
(`media.stream_to_file`), the type sniffing, a SHA-256 of the bytes, and our adapter's `IpfsClient.add_file`.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

from benchmarks.common import BenchStack, Figure, stop_proc
from benchmarks.upload_memory import _SETTING_NAMES, FORM, _start_server, write_wav
from devtools.procs import pick_free_port
from marketplace.catalog import media
from marketplace.core.migrate import upgrade
from marketplace.integrations.ipfs.client import ADD_OPTIONS, IpfsClient

SECTION = "upload"
GOAL = "<= 1.2"
MB = 1_000_000
TIMEOUT = httpx.Timeout(300.0, connect=10.0)


def direct_add(api_url: str, path: Path) -> float:
    """The bare limit: one multipart POST of the file to the node's `/api/v0/add`; seconds to its answer."""
    params = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in ADD_OPTIONS.items()}
    with path.open("rb") as f, httpx.Client(timeout=TIMEOUT) as client:
        t0 = time.perf_counter()
        r = client.post(f"{api_url}/api/v0/add", params=params,
                        files={"file": (path.name, f, "application/octet-stream")})
        seconds = time.perf_counter() - t0
    r.raise_for_status()
    if '"Hash"' not in r.text:
        raise RuntimeError(f"the node's add answered {r.text[:300]}")
    return seconds


def api_upload(client: httpx.Client, url: str, headers: dict, path: Path) -> float:
    with path.open("rb") as f:
        t0 = time.perf_counter()
        r = client.post(url, headers=headers, data=FORM, files={"file": (path.name, f, "audio/wav")})
        seconds = time.perf_counter() - t0
    if r.status_code != 201:
        raise RuntimeError(f"upload answered {r.status_code}: {r.text[:500]}")
    if r.json()["media_size"] != path.stat().st_size:
        raise RuntimeError(f"the service stored {r.json()['media_size']} bytes, not {path.stat().st_size}")
    return seconds


def _where_time_goes(stack: BenchStack, path: Path, work: Path) -> dict:
    staged = work / "staged"
    t0 = time.perf_counter()
    with path.open("rb") as f:
        media.stream_to_file(f, staged, max_bytes=path.stat().st_size)
    stage_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    media.sniff_file(staged)
    sniff_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with staged.open("rb") as f:
        hashlib.file_digest(f, "sha256")
    sha_s = time.perf_counter() - t0
    staged.unlink()
    other = write_wav(work / "adapter.wav", path.stat().st_size)
    with IpfsClient(stack.ipfs.api_addr, timeout_s=120) as ipfs:
        t0 = time.perf_counter()
        ipfs.add_file(other)
        adapter_s = time.perf_counter() - t0
    other.unlink()
    return {"staging_copy_s": stage_s, "sniff_s": sniff_s, "sha256_s": sha_s, "ipfs_client_add_file_s": adapter_s}


def run(stack: BenchStack, *, quick: bool, log=print) -> tuple[list[Figure], dict]:
    sizes = (1 * MB, 2 * MB) if quick else (20 * MB, 50 * 1024 * 1024 - 4096)  # 50 MB: just under the limit
    rounds = 1 if quick else 3
    work = stack.tmp / "upload-speed"
    work.mkdir()
    db_url = f"sqlite:///{work / 'service.db'}"
    upgrade(db_url)
    port = pick_free_port()
    base_env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTING_NAMES}
    env = {**base_env, "ENV": "test", "RUN_MAIL_WORKER": "false", "DATABASE_URL": db_url, "RPC_URL": stack.rpc_url,
           "IPFS_API_URL": stack.ipfs.api_addr, "DATA_DIR": str(work / "data"),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "RUN_MINT_WORKER": "false", "RUN_DELIVERY_WORKER": "false"}
    service = _start_server("upload-speed", [sys.executable, "-m", "marketplace.cli", "serve", "--host", "127.0.0.1",
                                             "--port", str(port)], env, work, port, stack.tmp / "logs")
    details: dict = {"rounds": rounds, "sizes": {}}
    figures: list[Figure] = []
    try:
        with httpx.Client(base_url=service.base_url, timeout=TIMEOUT) as client:
            email, password = "bench-upload@example.lu", "bench-password-1"
            r = client.post("/api/auth/register", json={"email": email, "password": password,
                                                        "display_name": "Bench Uploader", "role": "creator"})
            if r.status_code != 201:
                raise RuntimeError(f"register answered {r.status_code}: {r.text[:500]}")
            r = client.post("/api/auth/token", data={"username": email, "password": password})
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            api_upload(client, "/api/works", headers, write_wav(work / "warm.wav", 64 * 1024))  # warm-up
            for size in sizes:
                ours, bare = [], []
                for i in range(rounds):
                    a, b = write_wav(work / "a.wav", size), write_wav(work / "b.wav", size)
                    if i % 2 == 0:
                        bare.append(direct_add(stack.ipfs.api_url, a))
                        ours.append(api_upload(client, "/api/works", headers, b))
                    else:
                        ours.append(api_upload(client, "/api/works", headers, b))
                        bare.append(direct_add(stack.ipfs.api_url, a))
                    a.unlink()
                    b.unlink()
                context = _where_time_goes(stack, write_wav(work / "c.wav", size), work)
                (work / "c.wav").unlink()
                label = f"{size / MB:.0f} MB" if size < 50 * MB else f"{size / 1024 / 1024:.0f} MiB (the limit)"
                o, b_ = statistics.median(ours), statistics.median(bare)
                details["sizes"][label] = {"bytes": size, "api_s": ours, "direct_add_s": bare, **context}
                log(f"  {label}: API {o:.2f} s (runs {', '.join(f'{v:.2f}' for v in ours)}), direct add {b_:.2f} s "
                    f"(runs {', '.join(f'{v:.2f}' for v in bare)}); staging copy {context['staging_copy_s']:.2f} s, "
                    f"sha256 {context['sha256_s']:.2f} s, IpfsClient.add_file {context['ipfs_client_add_file_s']:.2f} s")
                figures += [
                    Figure(SECTION, f"upload {label} WAV: POST /api/works vs direct /api/v0/add", o, b_, unit="s",
                           digits=2, goal=GOAL, note=f"median of {rounds}"),
                    Figure(SECTION, f"upload {label} WAV throughput", size / MB / o, size / MB / b_, unit="MB/s"),
                ]
    finally:
        stop_proc(service.proc)
    return figures, details
