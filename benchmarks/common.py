"""Shared pieces of the benchmarks: the local stack (anvil, IPFS, SQLite), raw transactions, figures."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any

from eth_account import Account as EthAccount
from web3 import Web3

from devtools.anvil import DEV_KEYS, AnvilNode
from devtools.ipfs_node import IpfsNode
from devtools.procs import pick_free_port, stop_process
from marketplace.core import db
from marketplace.core.migrate import upgrade
from marketplace.integrations.chain import client as chain_client

ADMIN_KEY = DEV_KEYS[0]  # deploys, holds DEFAULT_ADMIN_ROLE and MINTER_ROLE; the service's minter
RAW_KEY = DEV_KEYS[1]  # the bare-limit sender (granted MINTER_ROLE)
MINTER_ROLE = Web3.keccak(text="MINTER_ROLE")
TIP_WEI = 1_000_000_000


# ------------------------------------------------------------------------------------------------ figures
@dataclass
class Figure:
    """One row of the table: our figure, the bare limit of the same part, their ratio and the goal."""

    section: str
    name: str
    ours: float | None
    bare: float | None = None
    unit: str = ""
    goal: str | None = None  # e.g. "<= 0.6" (on the ratio) or "< 100" (on `ours`, when goal_on == "ours")
    goal_on: str = "ratio"  # "ratio" | "ours"
    digits: int = 1
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.bare:
            return None
        return self.ours / self.bare

    @property
    def goal_met(self) -> bool | None:
        if self.goal is None:
            return None
        value = self.ratio if self.goal_on == "ratio" else self.ours
        if value is None:
            return None
        op, _, limit = self.goal.partition(" ")
        limit_f = float(limit)
        return {"<=": value <= limit_f, "<": value < limit_f, ">=": value >= limit_f, ">": value > limit_f}[op]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ours": self.ours,
            "bare": self.bare,
            "unit": self.unit,
            "ratio": self.ratio,
            "goal": None if self.goal is None else f"{'ratio' if self.goal_on == 'ratio' else 'ours'} {self.goal}",
            "goal_met": self.goal_met,
            "note": self.note,
            **({"extra": self.extra} if self.extra else {}),
        }


class Timers:
    """Wall time spent in a few methods of some objects (wrapped on the instances only, so nothing else changes).

    `thread`: only count calls made on threads whose name starts with it (None: every thread)."""

    def __init__(self, thread: str | None = None) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.thread = thread
        self._lock = threading.Lock()

    def counts_here(self) -> bool:
        return self.thread is None or threading.current_thread().name.startswith(self.thread)

    def add(self, label: str, seconds: float) -> None:
        with self._lock:
            self.total[label] += seconds
            self.calls[label] += 1

    def wrap(self, obj, name: str, label: str) -> None:
        fn = getattr(obj, name)

        @wraps(fn)
        def timed(*args, **kwargs):
            if not self.counts_here():
                return fn(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - t0)

        setattr(obj, name, timed)

    def seconds(self, label: str) -> float:
        return self.total.get(label, 0.0)

    def as_json(self) -> dict:
        return {k: {"seconds": round(v, 4), "calls": self.calls[k]} for k, v in sorted(self.total.items())}


# ------------------------------------------------------------------------------------------------ the stack
def _die_with_parent() -> None:  # in the child, between fork and exec: SIGTERM it if the benchmark dies
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001, S110 - Linux only, best effort
        pass


def start_subprocess(args: list[str], *, env: dict[str, str], log_path: Path, cwd: Path) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    try:
        return subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)
    finally:
        log.close()  # the child has its own copy


@dataclass
class BenchStack:
    tmp: Path
    anvil: AnvilNode
    ipfs: IpfsNode
    db_url: str
    w3: Web3

    @property
    def rpc_url(self) -> str:
        return self.anvil.rpc_url


def start_stack(stack: ExitStack, *, log=print) -> BenchStack:
    """A temp dir, a fresh anvil (`--prune-history`), a fresh js-ipfs node and a migrated temp SQLite database.
    Everything is registered on `stack` and stopped/removed when it closes (also on errors and Ctrl-C)."""
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
    t0 = time.perf_counter()
    anvil = AnvilNode.start(port=pick_free_port(), log_path=tmp / "logs" / "anvil.log")
    stack.callback(anvil.stop)
    ipfs = IpfsNode.start(tmp / "ipfs", pick_free_port(), timeout=90)
    stack.callback(ipfs.stop)
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(db_url)
    db.init_engine(db_url)
    stack.callback(lambda: db.get_engine().dispose())
    log(f"  stack up in {time.perf_counter() - t0:.1f} s: anvil {anvil.rpc_url}, IPFS {ipfs.api_url}, {db_url}")
    return BenchStack(tmp=tmp, anvil=anvil, ipfs=ipfs, db_url=db_url, w3=chain_client.make_web3(anvil.rpc_url,
                                                                                               timeout_s=60))


def stop_proc(proc: subprocess.Popen) -> None:
    stop_process(proc, timeout=10)


def reset_chain(w3: Web3) -> None:
    """`anvil_reset`: back to the genesis state (funded dev keys, no contracts) on the same anvil process.

    anvil slows down as its state grows (each automined block costs more: ~3 ms per mint transaction on a fresh
    chain, ~6 ms after 900 mints here), so every throughput measurement starts from the same, empty state."""
    response = w3.provider.make_request("anvil_reset", [])
    if "error" in response:
        raise RuntimeError(f"anvil_reset failed: {response['error']}")


def deploy_creative_works(rpc_url: str) -> str:
    admin = EthAccount.from_key(ADMIN_KEY).address
    return chain_client.deploy(rpc_url=rpc_url, deployer_key=ADMIN_KEY, name="Bench Works", symbol="BW",
                               admin=admin, minter=admin)


def deploy_baseline(rpc_url: str) -> str:
    owner = EthAccount.from_key(ADMIN_KEY).address
    return chain_client.deploy_artifact(rpc_url=rpc_url, deployer_key=ADMIN_KEY, artifact="BaselineURIStorage",
                                        args=("Baseline Works", "BASE", owner))


def deploy_editions_1155(rpc_url: str) -> str:
    owner = EthAccount.from_key(ADMIN_KEY).address
    return chain_client.deploy_artifact(rpc_url=rpc_url, deployer_key=ADMIN_KEY, artifact="BaselineEditions1155",
                                        args=(owner,))


def contract(w3: Web3, address: str, artifact: str):
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=chain_client.load_artifact(artifact)["abi"])


# ------------------------------------------------------------------------------------------------ raw txs
class RawSender:
    """The bare way to put transactions on the chain: one local key, manual nonces, fixed gas and fees."""

    def __init__(self, w3: Web3, key: str) -> None:
        self.w3 = w3
        self.account = EthAccount.from_key(key)
        self.chain_id = w3.eth.chain_id
        self.nonce = w3.eth.get_transaction_count(self.account.address, "pending")
        self.refresh_fees()

    @property
    def address(self) -> str:
        return self.account.address

    def refresh_fees(self) -> None:
        base_fee = self.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0
        self.fees = {"maxFeePerGas": 2 * base_fee + TIP_WEI, "maxPriorityFeePerGas": TIP_WEI}

    def sign(self, to: str, data: str, gas: int, value: int = 0) -> tuple[bytes, str]:
        tx = {"type": 2, "chainId": self.chain_id, "nonce": self.nonce, "to": to, "data": data, "value": value,
              "gas": gas, **self.fees}
        self.nonce += 1
        signed = self.account.sign_transaction(tx)
        return bytes(signed.raw_transaction), signed.hash.to_0x_hex()

    def send(self, raw: bytes) -> str:
        return self.w3.eth.send_raw_transaction(raw).to_0x_hex()

    def receipts(self, tx_hashes: list[str], timeout_s: float = 60.0) -> list[dict]:
        return [self.w3.eth.wait_for_transaction_receipt(h, timeout=timeout_s, poll_latency=0.01) for h in tx_hashes]

    def transact(self, to: str, data: str, gas: int, value: int = 0) -> dict:
        """Sign, send and wait: one transaction, its receipt (raises if it reverted)."""
        raw, tx_hash = self.sign(to, data, gas, value)
        self.send(raw)
        receipt = self.receipts([tx_hash])[0]
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {tx_hash} reverted")
        return receipt


def grant_minter(w3: Web3, contract_address: str, grantee: str) -> None:
    cw = contract(w3, contract_address, "CreativeWorks")
    admin = RawSender(w3, ADMIN_KEY)
    admin.transact(cw.address, cw.encode_abi("grantRole", args=[MINTER_ROLE, grantee]), 200_000)
    if not cw.functions.hasRole(MINTER_ROLE, grantee).call():
        raise RuntimeError("MINTER_ROLE was not granted")
