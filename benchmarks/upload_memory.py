"""3. Peak memory of the real service while a ~50 MB upload streams through it, against a bare upload app.

Both servers run as subprocesses under the same uvicorn; a thread samples the server's VmRSS from /proc every
~5 ms during the upload (and the kernel's high-water mark VmHWM, reset through /proc/<pid>/clear_refs just before,
catches anything between samples). The client streams the file from disk (httpx with a file object).
"""

from __future__ import annotations

import os
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.common import BenchStack, Figure, deploy_creative_works, start_subprocess, stop_proc
from devtools.procs import REPO_ROOT, pick_free_port
from marketplace.core.config import Settings
from marketplace.core.migrate import upgrade
from marketplace.integrations.ipfs.client import IpfsClient

SECTION = "upload memory"
MB = 1_000_000
SAMPLE_INTERVAL_S = 0.005
FORM = {"title": "Bench upload", "description": "A long recording.", "discipline": "music", "price_cents": "1500",
        "currency": "EUR", "royalty_bps": "500", "license": "CC-BY-4.0"}
# Settings read from the environment: never inherit them from the caller's shell
_SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def write_wav(path: Path, size: int) -> Path:
    """A valid PCM WAV (RIFF/WAVE header + 16-bit stereo 44.1 kHz samples) of exactly `size` bytes."""
    data_size = size - 44
    header = b"RIFF" + struct.pack("<I", size - 8) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16)
    header += b"data" + struct.pack("<I", data_size)
    with path.open("wb") as f:
        f.write(header)
        left = data_size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            f.write(chunk)
            left -= len(chunk)
    return path


def _status_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def rss_mb(pid: int) -> float:
    kb = _status_kb(pid, "VmRSS")
    if kb is None:
        raise RuntimeError(f"process {pid} is gone")
    return kb * 1024 / MB


def reset_hwm(pid: int) -> bool:
    """Reset the process's peak-RSS counter (VmHWM); False if the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        super().__init__(daemon=True, name=f"rss-{pid}")
        self.pid = pid
        self.interval_s = interval_s
        self.peak_kb = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            kb = _status_kb(self.pid, "VmRSS")
            if kb is not None:
                self.samples += 1
                self.peak_kb = max(self.peak_kb, kb)
            self._stop_event.wait(self.interval_s)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)

    @property
    def peak_mb(self) -> float:
        return self.peak_kb * 1024 / MB


@dataclass
class Server:
    name: str
    proc: object
    base_url: str
    log_path: Path


def _start_server(name: str, args: list[str], env: dict[str, str], cwd: Path, port: int, log_dir: Path) -> Server:
    log_path = log_dir / f"{name}.log"
    proc = start_subprocess(args, env=env, log_path=log_path, cwd=cwd)
    server = Server(name=name, proc=proc, base_url=f"http://127.0.0.1:{port}", log_path=log_path)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{server.base_url}/api/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_proc(proc)
            raise RuntimeError(f"{name} did not answer within 60 s:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.05)


def _measure(server: Server, *, url: str, file_path: Path, small_path: Path, headers: dict, data: dict) -> dict:
    pid = server.proc.pid
    timeout = httpx.Timeout(300.0, connect=10.0)
    with httpx.Client(timeout=timeout) as client:
        # warm-up: a small upload through the same route loads every lazily imported piece
        with small_path.open("rb") as f:
            r = client.post(url, headers=headers, data=data, files={"file": (small_path.name, f, "audio/wav")})
        if r.status_code not in (200, 201):
            raise RuntimeError(f"{server.name}: warm-up upload answered {r.status_code}: {r.text[:500]}")
        idle_samples = []
        for _ in range(10):  # let it settle, then take the lowest of a few readings
            time.sleep(0.05)
            idle_samples.append(rss_mb(pid))
        idle = min(idle_samples)
        hwm_reset = reset_hwm(pid)
        sampler = RssSampler(pid)
        sampler.start()
        t0 = time.perf_counter()
        with file_path.open("rb") as f:
            r = client.post(url, headers=headers, data=data, files={"file": (file_path.name, f, "audio/wav")})
        wall = time.perf_counter() - t0
        sampler.stop()
    if r.status_code not in (200, 201):
        raise RuntimeError(f"{server.name}: upload answered {r.status_code}: {r.text[:500]}")
    hwm_kb = _status_kb(pid, "VmHWM") if hwm_reset else None
    time.sleep(0.3)
    after = rss_mb(pid)
    peak = max(sampler.peak_mb, hwm_kb * 1024 / MB if hwm_kb else 0.0)
    size = file_path.stat().st_size
    return {"idle_rss_mb": idle, "peak_rss_mb": peak, "peak_above_idle_mb": peak - idle,
            "sampled_peak_rss_mb": sampler.peak_mb, "vmhwm_mb": hwm_kb * 1024 / MB if hwm_kb else None,
            "rss_after_mb": after, "samples": sampler.samples, "upload_seconds": wall,
            "upload_mb_per_s": size / MB / wall, "upload_bytes": size, "response": r.json()}


def run(stack: BenchStack, *, quick: bool, log=print) -> tuple[list[Figure], dict]:
    max_bytes = Settings.model_fields["max_upload_bytes"].default
    work = stack.tmp / "upload"
    work.mkdir()
    big = write_wav(work / "long-recording.wav", max_bytes - 4096)  # just under the limit
    small = write_wav(work / "short.wav", 64 * 1024)
    python = sys.executable
    base_env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTING_NAMES}

    # --- the real service
    db_url = f"sqlite:///{work / 'service.db'}"
    upgrade(db_url)
    port = pick_free_port()
    env = {**base_env, "ENV": "test", "RUN_MAIL_WORKER": "false", "DATABASE_URL": db_url, "RPC_URL": stack.rpc_url,
           "IPFS_API_URL": stack.ipfs.api_addr, "CONTRACT_ADDRESS": deploy_creative_works(stack.rpc_url),
           "DATA_DIR": str(work / "data"), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    service = _start_server("service", [python, "-m", "marketplace.cli", "serve", "--host", "127.0.0.1", "--port",
                                        str(port)], env, work, port, stack.tmp / "logs")
    try:
        email, password = "bench-creator@example.lu", "bench-password-1"
        r = httpx.post(f"{service.base_url}/api/auth/register", timeout=30, json={
            "email": email, "password": password, "display_name": "Bench Creator", "role": "creator"})
        if r.status_code != 201:
            raise RuntimeError(f"register answered {r.status_code}: {r.text[:500]}")
        r = httpx.post(f"{service.base_url}/api/auth/token", timeout=30,
                       data={"username": email, "password": password})
        if r.status_code != 200:
            raise RuntimeError(f"token answered {r.status_code}: {r.text[:500]}")
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        httpx.get(f"{service.base_url}/api/me", headers=headers, timeout=30).raise_for_status()
        ours = _measure(service, url=f"{service.base_url}/api/works", file_path=big, small_path=small,
                        headers=headers, data=FORM)
    finally:
        stop_proc(service.proc)
    log(f"  service: idle {ours['idle_rss_mb']:.1f} MB, peak {ours['peak_rss_mb']:.1f} MB "
        f"(+{ours['peak_above_idle_mb']:.1f}), upload {ours['upload_seconds']:.2f} s")

    # --- the bare limit: same uvicorn, a route that only receives the multipart upload
    port = pick_free_port()
    bare_env = {**base_env, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                                         base_env.get("PYTHONPATH")]))}
    bare_server = _start_server("bare-upload-app", [python, "-m", "benchmarks.bare_upload_app", "--port", str(port)],
                                bare_env, work, port, stack.tmp / "logs")
    try:
        bare = _measure(bare_server, url=f"{bare_server.base_url}/upload", file_path=big, small_path=small,
                        headers={}, data=FORM)
    finally:
        stop_proc(bare_server.proc)
    log(f"  bare app: idle {bare['idle_rss_mb']:.1f} MB, peak {bare['peak_rss_mb']:.1f} MB "
        f"(+{bare['peak_above_idle_mb']:.1f}), upload {bare['upload_seconds']:.2f} s")
    if ours["response"].get("media_size") != big.stat().st_size:
        raise RuntimeError(f"the service stored {ours['response'].get('media_size')} bytes, not {big.stat().st_size}")

    # context: how much of the service's upload time is the IPFS node itself (same size, fresh bytes: no dedup)
    other = write_wav(work / "other-recording.wav", big.stat().st_size)
    with IpfsClient(stack.ipfs.api_addr, timeout_s=120) as ipfs:
        t0 = time.perf_counter()
        ipfs.add_file(other)
        ipfs_add_s = time.perf_counter() - t0
    other.unlink()
    log(f"  direct IpfsClient.add_file of a file of the same size: {ipfs_add_s:.2f} s")

    size_note = f"{big.stat().st_size / MB:.1f} MB WAV"
    figures = [
        Figure(SECTION, "peak RSS above idle during the upload", ours["peak_above_idle_mb"],
               bare["peak_above_idle_mb"], unit="MB", goal="< 100", goal_on="ours", note=size_note),
        Figure(SECTION, "idle RSS (after a warm-up upload)", ours["idle_rss_mb"], bare["idle_rss_mb"], unit="MB"),
        Figure(SECTION, "peak RSS during the upload", ours["peak_rss_mb"], bare["peak_rss_mb"], unit="MB",
               note=f"{ours['samples']} samples @ {SAMPLE_INTERVAL_S * 1000:.0f} ms + VmHWM"),
        Figure(SECTION, "upload wall time", ours["upload_seconds"], bare["upload_seconds"], unit="s", digits=2,
               note="service: + store, sniff, IPFS add"),
        Figure(SECTION, "upload throughput", ours["upload_mb_per_s"], bare["upload_mb_per_s"], unit="MB/s"),
    ]
    for result in (ours, bare):
        result.pop("response", None)
    return figures, {"upload_bytes": big.stat().st_size, "max_upload_bytes": max_bytes, "service": ours,
                     "bare_app": bare, "direct_ipfs_add_seconds": ipfs_add_s}
