"""A real local IPFS node (js-ipfs from node_modules) for `marketplace dev` and the tests.

Production runs Kubo; no Kubo binary installs here, and js-ipfs speaks the same `/api/v0` RPC for what we use
(add, cat, files/stat, pin, version). See docs in /work/shared/TOOLCHAIN.md (IPFS):
- the repo is initialised with an empty swarm, no bootstrap peers and the API on 127.0.0.1:<port>;
- the daemon runs `--offline --enable-preload=false`, so nothing leaves the machine;
- it takes ~3.5 s to answer and ~200-300 MB of memory.

    with IpfsNode.start(Path("data/ipfs"), pick_free_port()) as node:
        client = IpfsClient(node.api_addr)
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

from devtools.procs import NODE_MODULES, REPO_ROOT, pick_free_port, port_open, stop_process

__all__ = ["IpfsNode", "find_repo_root", "jsipfs_command", "pick_free_port"]

LOG_NAME = "daemon.log"
_PR_SET_PDEATHSIG = 1


def find_repo_root() -> Path:
    """The project checkout (the directory holding package.json and node_modules/)."""
    return REPO_ROOT


def jsipfs_command(node_modules: Path | None = None) -> list[str]:
    """`node <node_modules>/ipfs/src/cli.js` (the target of node_modules/.bin/jsipfs), with a clear error if absent."""
    node_modules = Path(node_modules) if node_modules is not None else NODE_MODULES
    cli = node_modules / "ipfs" / "src" / "cli.js"
    if not cli.exists():
        raise FileNotFoundError(f"js-ipfs not found at {cli}: run `npm ci` in {node_modules.parent}")
    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError("`node` is not on PATH: install Node.js 20 (see README)")
    return [node, str(cli)]


def _node_config(api_port: int) -> dict[str, Any]:
    return {
        "Addresses": {
            "Swarm": [],
            "Announce": [],
            "NoAnnounce": [],
            "Delegates": [],
            "API": f"/ip4/127.0.0.1/tcp/{api_port}",
            "Gateway": "/ip4/127.0.0.1/tcp/0",
            "RPC": "/ip4/127.0.0.1/tcp/0",
        },
        "Bootstrap": [],
        "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
    }


def _api_answers(api_url: str, timeout: float = 1.0) -> bool:
    response = requests.post(f"{api_url}/api/v0/version", timeout=timeout)
    return response.ok and "Version" in response.json()


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:  # noqa: BLE001, S110 - Linux only, best effort
        pass


@dataclass
class IpfsNode:
    repo_dir: Path
    api_port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] | None = None
    _log_offset: int = 0  # where this run's output starts in the (appended) log

    @property
    def api_addr(self) -> str:
        """Multiaddr of the RPC API, as Kubo writes it (`/ip4/127.0.0.1/tcp/PORT/http`)."""
        return f"/ip4/127.0.0.1/tcp/{self.api_port}/http"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @classmethod
    def start(
        cls,
        repo_dir: Path,
        api_port: int | None = None,
        *,
        timeout: float = 60.0,
        node_modules: Path | None = None,
    ) -> IpfsNode:
        """Initialise `repo_dir` if needed, start the daemon on 127.0.0.1:`api_port` and wait until it answers."""
        repo_dir = Path(repo_dir).resolve()
        api_port = api_port or pick_free_port()
        command = jsipfs_command(node_modules)
        env = {**os.environ, "IPFS_PATH": str(repo_dir)}
        env.pop("IPFS_MONITORING", None)

        if not (repo_dir / "config").exists():
            _init_repo(command, repo_dir, api_port, env)
        _clear_stale_daemon_files(repo_dir)
        _configure(repo_dir, api_port)
        if port_open(api_port):
            raise RuntimeError(f"IPFS API port {api_port} is already in use; pick another (pick_free_port()).")

        log_path = repo_dir / LOG_NAME
        log = log_path.open("ab")
        log_offset = log.tell()
        started_at = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(f"\n--- starting js-ipfs daemon on port {api_port} at {started_at}\n".encode())
        log.flush()
        in_main_thread = threading.current_thread() is threading.main_thread()
        proc = subprocess.Popen(
            [*command, "daemon", "--offline", "--enable-preload=false"],
            env=env,
            cwd=repo_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the parent's terminal reaches the parent, which then stops us
            # If the parent dies without cleaning up, take the daemon down too (only from the main thread: the
            # signal fires when the starting *thread* exits).
            preexec_fn=_die_with_parent if in_main_thread else None,  # noqa: PLW1509
        )
        node = cls(repo_dir=repo_dir, api_port=api_port, proc=proc, log_path=log_path, _log=log, _log_offset=log_offset)
        try:
            node._wait_ready(timeout)
        except BaseException:
            node.stop()
            raise
        return node

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"js-ipfs daemon exited with code {self.proc.returncode} while starting "
                    f"(log {self.log_path}):\n{self._log_tail()}",
                )
            try:
                # ready = answering, and its `api` file written (js-ipfs may answer first): until then another
                # node's cleanup could not tell this daemon's files from a dead one's
                if _api_answers(self.api_url) and (self.repo_dir / "api").exists():
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"js-ipfs daemon did not answer on {self.api_url} within {timeout:.0f} s (log {self.log_path}):\n"
            f"{self._log_tail()}",
        )

    def _log_tail(self, n_bytes: int = 4000) -> str:
        """The end of this run's daemon output (stdout and stderr)."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(max(self._log_offset, self.log_path.stat().st_size - n_bytes))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def is_running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the daemon's process group, wait up to `timeout` s, then SIGKILL. Safe to call twice."""
        stop_process(self.proc, timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        # A daemon that had to be killed leaves its lock and api files behind (unless another daemon took over).
        _clear_stale_daemon_files(self.repo_dir, only_port=self.api_port)

    def __enter__(self) -> IpfsNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _run(command: list[str], env: dict[str, str], what: str, timeout: float = 120.0) -> None:
    result = subprocess.run(command, env=env, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace")[-3000:]
        raise RuntimeError(f"{what} failed with exit code {result.returncode}:\n{output}")


def _init_repo(command: list[str], repo_dir: Path, api_port: int, env: dict[str, str]) -> None:
    repo_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ipfs-init-") as tmp:
        config_file = Path(tmp) / "config.json"
        config_file.write_text(json.dumps(_node_config(api_port)))
        _run([*command, "init", "--emptyRepo", str(config_file)], env, f"jsipfs init in {repo_dir}")


def _configure(repo_dir: Path, api_port: int) -> None:
    """Rewrite the network part of the repo config (port may differ from the last run; never any peers)."""
    config_path = repo_dir / "config"
    config = json.loads(config_path.read_text())
    wanted = _node_config(api_port)
    config.setdefault("Addresses", {}).update(wanted["Addresses"])
    config["Bootstrap"] = wanted["Bootstrap"]
    config.setdefault("Discovery", {}).update(wanted["Discovery"])
    tmp = config_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config, indent=2))
    tmp.replace(config_path)


def _clear_stale_daemon_files(repo_dir: Path, *, only_port: int | None = None) -> None:
    """Remove `repo.lock` and `api` left by a daemon that was killed, unless a daemon still answers there.

    only_port: leave everything alone unless the `api` file names this port (our own daemon's leftovers).
    """
    api_file = repo_dir / "api"
    if only_port is not None and not api_file.exists():
        return  # nothing says the lock is ours (another daemon may be starting); the next start clears it
    if api_file.exists():
        addr = api_file.read_text().strip()  # e.g. /ip4/127.0.0.1/tcp/5001/http
        parts = addr.split("/")
        try:
            port = int(parts[4])
        except (IndexError, ValueError):
            port = None
        if only_port is not None and port != only_port:
            return
        if port is not None and port_open(port):
            try:
                alive = _api_answers(f"http://127.0.0.1:{port}")
            except (requests.RequestException, ValueError):
                alive = False
            if alive:
                raise RuntimeError(
                    f"An IPFS daemon is already running on repo {repo_dir} (API {addr}); stop it first.",
                )
        api_file.unlink(missing_ok=True)
    lock = repo_dir / "repo.lock"
    if lock.is_dir():
        shutil.rmtree(lock, ignore_errors=True)
    elif lock.exists():
        lock.unlink(missing_ok=True)
