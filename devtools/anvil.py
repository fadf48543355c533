"""A local anvil (Foundry) chain: the native binary from node_modules, no Node wrapper."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import requests

from devtools.procs import NODE_MODULES, stop_process, wait_until

# The well-known anvil dev mnemonic funds these; account 0 deploys and mints in dev.
DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3d09d776f3f4a3d6",
)


STATE_INTERVAL_S = 1  # how often a local chain with a state file dumps it: a crash loses at most this much


def keep_one_genesis(state_file: Path) -> int:
    """Anvil (1.7) makes a fresh genesis block at every start, then loads the state file's blocks over it, and its
    next dump lists both, in no fixed order; loading such a file makes whichever block 0 comes last the genesis. So
    after two or three restarts the chain's genesis hash changed, and the chain watcher (rightly) refused to mint on
    "another chain". Before a start, the file keeps only its oldest block 0: the chain's own genesis (every later
    one was made at a later start). Returns how many copies it dropped."""
    if not state_file.exists():
        return 0
    state = json.loads(state_file.read_text())
    blocks = state.get("blocks") or []
    genesis = [b for b in blocks if int(str(b["header"]["number"]), 0) == 0]
    if len(genesis) < 2:
        return 0
    oldest = min(genesis, key=lambda b: int(str(b["header"]["timestamp"]), 0))
    state["blocks"] = [b for b in blocks if b is oldest or int(str(b["header"]["number"]), 0) != 0]
    spare = state_file.with_suffix(".tmp")
    spare.write_text(json.dumps(state))
    os.replace(spare, state_file)
    return len(genesis) - 1


def anvil_binary() -> Path:
    native = NODE_MODULES / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    if native.exists():
        return native
    wrapper = NODE_MODULES / ".bin" / "anvil"
    if wrapper.exists():
        return wrapper
    raise FileNotFoundError("anvil not found: run `npm ci` (see README)")


def _rpc_ready(url: str) -> bool:
    r = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1)
    return r.ok and "result" in r.json()


@dataclass
class AnvilNode:
    port: int
    proc: subprocess.Popen
    log_path: Path
    extra: dict = field(default_factory=dict)

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, *, port: int, state_file: Path | None = None, log_path: Path, block_time: float | None = None,
              state_interval_s: int = STATE_INTERVAL_S, timeout: float = 30.0) -> "AnvilNode":
        """With a state_file, anvil loads it at start, dumps to it every state_interval_s seconds (whole seconds)
        and on a clean stop (SIGTERM: stop()); a crash (SIGKILL) loses at most the last interval, which the chain
        watcher then sees as a rewind."""
        args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), "--chain-id", "31337"]
        if state_file is not None:
            state_file.parent.mkdir(parents=True, exist_ok=True)
            keep_one_genesis(state_file)
            args += ["--state", str(state_file), "--state-interval", str(state_interval_s)]
        else:
            args += ["--prune-history", "64"]  # bare pruning drops state an eth_call right after a block still needs
        if block_time:
            args += ["--block-time", str(block_time)]
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "ab")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        node = cls(port=port, proc=proc, log_path=log_path)
        try:
            wait_until(lambda: _rpc_ready(node.rpc_url), timeout=timeout, what="anvil", proc=proc, log=log_path)
        except Exception:
            node.stop()
            raise
        return node

    def stop(self) -> None:
        """SIGTERM (anvil dumps its state file, if any, before it exits), SIGKILL only if it hangs."""
        stop_process(self.proc, timeout=30.0)

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is dumped."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def __enter__(self) -> "AnvilNode":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
