"""The one narrow door to the chain: reads (eth_call) apart from writes, a serialised-nonce signer,
typed receipts whose results come from decoded events.

Blocking (web3.py over HTTP): call it from worker threads, never on the event loop.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Protocol

import requests
from eth_abi import encode as abi_encode
from eth_account import Account as EthAccount
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from tenacity import (
    Retrying,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_fixed,
)
from web3 import Web3
from web3.exceptions import BlockNotFound, ContractLogicError, TransactionNotFound, Web3RPCError

from marketplace.core.exceptions import ChainTransactionFailed, ChainUnavailable
from marketplace.integrations.chain import errors as chain_errors

log = logging.getLogger(__name__)

ARTIFACTS_DIR = Path(__file__).parent / "artifacts"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
TRANSFER_TOPIC = Web3.keccak(text="Transfer(address,address,uint256)").to_0x_hex()
_SAFE_TRANSFER_FROM = bytes(Web3.keccak(text="safeTransferFrom(address,address,uint256)")[:4])
_TRANSFER_BATCH = bytes(Web3.keccak(text="transferBatch(address[],address[],uint256[])")[:4])
_SET_APPROVAL_FOR_ALL = bytes(Web3.keccak(text="setApprovalForAll(address,bool)")[:4])
_MINT_REQUEST = "(address,bytes32,address,uint96)"  # CreativeWorks.MintRequest: to, metadataDigest, receiver, bps
_MINT = bytes(Web3.keccak(text=f"mint{_MINT_REQUEST}")[:4])
_MINT_BATCH = bytes(Web3.keccak(text=f"mintBatch({_MINT_REQUEST}[])")[:4])
MINT_GAS = 200_000  # one mint
MINT_BATCH_GAS = (80_000, 110_000)  # mintBatch: base + per token
APPROVAL_GAS = 60_000  # setApprovalForAll (~46k the first time)
TRANSFER_GAS = 120_000  # one safeTransferFrom (~63k to a fresh wallet; a receiving contract's hook costs more)
TRANSFER_BATCH_GAS = (60_000, 70_000)  # transferBatch: base + per token (~40k each to fresh wallets)
SPLIT_SHARES_TOTAL = 10_000  # Splits.TOTAL_SHARES: a split's shares are basis points summing to this
SPLIT_MIN_RECIPIENTS, SPLIT_MAX_RECIPIENTS = 2, 100  # Splits.MIN_RECIPIENTS, Splits.MAX_RECIPIENTS
# Splits' wallet creation code around the Splits address (Splits._WALLET_CREATION, _WALLET_HEAD, _WALLET_TAIL)
_SPLIT_WALLET_HEAD = bytes.fromhex("602c8060095f395ff3" "3373")
_SPLIT_WALLET_TAIL = bytes.fromhex("14601b57005b5f5f5f5f47335af1602a575f5ffd5b00")
CREATE_SPLIT_GAS = (90_000, 3_000)  # createSplit: base + per recipient (~70k for 2: CREATE2 of 44 bytes, the event)
DISTRIBUTE_GAS = (60_000, 30_000)  # distributeETH: base + per recipient (a first credit is a fresh 22k slot)
WITHDRAW_GAS = 100_000  # withdraw: ~35k to a wallet; a receiving contract may spend more
DISTRIBUTED_TOPIC = Web3.keccak(text="Distributed(address,uint256)").to_0x_hex()
WITHDRAWN_TOPIC = Web3.keccak(text="Withdrawn(address,uint256)").to_0x_hex()
EIP1271_MAGIC = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes): what a contract wallet answers for "mine"
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError, OSError)


def mint_calldata(request: tuple) -> bytes:
    """mint(to, digest, royaltyReceiver, royaltyBps) calldata, encoded with eth_abi (MintRequest.as_abi())."""
    return _MINT + abi_encode(["address", "bytes32", "address", "uint96"], list(request))


def mint_batch_calldata(requests: list[tuple]) -> bytes:
    """mintBatch(MintRequest[]) calldata from MintRequest.as_abi() tuples (to, digest, receiver, bps).

    A MintRequest is a static tuple of four 32-byte words, so the array is its offset, its length and the words:
    written out here (the same bytes as eth_abi, checked in the tests) because eth_abi's generic encoder, with its
    per-value validation, cost ~2.5 ms for a batch of 50, as much as signing it."""
    words = [_MINT_BATCH, (32).to_bytes(32, "big"), len(requests).to_bytes(32, "big")]
    for to, digest, receiver, bps in requests:
        if len(digest) != 32 or not isinstance(digest, bytes | bytearray):
            raise ValueError(f"a metadata digest is 32 bytes, not {digest!r}")
        if not (isinstance(bps, int) and 0 <= bps < 2**96):
            raise ValueError(f"royalty bps out of range for uint96: {bps!r}")
        words += [_address_word(to), bytes(digest), _address_word(receiver), bps.to_bytes(32, "big")]
    return b"".join(words)


def _address_word(address: str) -> bytes:
    if not (isinstance(address, str) and len(address) == 42 and address[:2] in ("0x", "0X")):
        raise ValueError(f"not an address: {address!r}")
    return bytes(12) + bytes.fromhex(address[2:])


def transfer_batch_calldata(moves: list[tuple[str, str, int]]) -> bytes:
    """transferBatch(from[], to[], tokenIds[]) calldata of (from, to, token) moves.

    Three arrays of static words: their offsets, then each array's length and words, written out here (the same
    bytes as eth_abi, checked in the tests; eth_abi with the checksums it wants cost ~4 ms for 50 moves)."""
    n = len(moves)
    size = 32 * (1 + n)
    words = [_TRANSFER_BATCH, (96).to_bytes(32, "big"), (96 + size).to_bytes(32, "big"),
             (96 + 2 * size).to_bytes(32, "big"), n.to_bytes(32, "big")]
    words += [_address_word(f) for f, _, _ in moves]
    words.append(n.to_bytes(32, "big"))
    words += [_address_word(t) for _, t, _ in moves]
    words.append(n.to_bytes(32, "big"))
    for _, _, token in moves:
        if not (isinstance(token, int) and 0 <= token < 2**256):
            raise ValueError(f"not a token id: {token!r}")
        words.append(token.to_bytes(32, "big"))
    return b"".join(words)


def mint_batch_gas(requests: int) -> int:
    """Gas limit of one mintBatch of `requests` tokens (prepare_mint_batch)."""
    base, each = MINT_BATCH_GAS
    return base + each * requests


def transfer_gas(moves: int) -> int:
    """Gas limit of one delivery transaction moving `moves` tokens (prepare_transfer_batch)."""
    if moves == 1:
        return TRANSFER_GAS
    base, each = TRANSFER_BATCH_GAS
    return base + each * moves


def split_recipients(accounts_shares) -> tuple[list[str], list[int]]:
    """A split as Splits wants it: (accounts, shares), the accounts checksummed and strictly ascending, each share
    a positive number of basis points, summing to 10,000. The same address named twice gets the sum of its shares.
    ValueError for anything that is not a split of 2 to 100 recipients."""
    merged: dict[int, int] = {}
    for account, share in accounts_shares:
        if not (isinstance(share, int) and share > 0):
            raise ValueError(f"a split share is a positive number of basis points, not {share!r}")
        key = int(Web3.to_checksum_address(account), 16)
        if key == 0:
            raise ValueError("a split cannot pay the zero address")
        merged[key] = merged.get(key, 0) + share
    if sum(merged.values()) != SPLIT_SHARES_TOTAL:
        raise ValueError(f"a split's shares sum to {SPLIT_SHARES_TOTAL}, not {sum(merged.values())}")
    if not SPLIT_MIN_RECIPIENTS <= len(merged) <= SPLIT_MAX_RECIPIENTS:
        raise ValueError(f"a split has {SPLIT_MIN_RECIPIENTS} to {SPLIT_MAX_RECIPIENTS} recipients, not {len(merged)}")
    ordered = sorted(merged)
    return [Web3.to_checksum_address(f"0x{key:040x}") for key in ordered], [merged[key] for key in ordered]


def split_hash(accounts: list[str], shares: list[int]) -> bytes:
    """Splits.splitHash: keccak256(abi.encodePacked(address[] accounts, uint16[] shares)), every element a word."""
    return bytes(Web3.keccak(b"".join(_address_word(a) for a in accounts)
                             + b"".join(share.to_bytes(32, "big") for share in shares)))


def predict_split_address(splits_address: str, accounts_shares) -> str:
    """The address of a split's wallet, created or not, computed off chain exactly as Splits.predictSplitAddress:
    CREATE2 by the Splits contract, salt the split's hash, init code the 53-byte wallet naming the contract."""
    accounts, shares = split_recipients(accounts_shares)
    deployer = bytes.fromhex(Web3.to_checksum_address(splits_address)[2:])
    init_code_hash = Web3.keccak(_SPLIT_WALLET_HEAD + deployer + _SPLIT_WALLET_TAIL)
    digest = Web3.keccak(b"\xff" + deployer + split_hash(accounts, shares) + init_code_hash)
    return Web3.to_checksum_address(digest[12:])


@cache
def load_artifact(name: str) -> dict[str, Any]:
    return json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())


def make_web3(rpc_url: str, *, timeout_s: float = 10.0) -> Web3:
    # web3 validates every call against eth_chainId: cache it (the chain id of a node does not change)
    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s}, cache_allowed_requests=True,
                                  cacheable_requests={"eth_chainId"}))


@dataclass(frozen=True)
class MintRequest:
    to: str
    metadata_digest: bytes  # 32 bytes, sha2-256 of the metadata JSON
    royalty_receiver: str
    royalty_bps: int

    @property
    def token_id(self) -> int:
        return int.from_bytes(self.metadata_digest, "big")

    def as_abi(self) -> tuple:
        receiver = self.royalty_receiver if self.royalty_bps else ZERO_ADDRESS
        return (self.to, self.metadata_digest, receiver, self.royalty_bps)


@dataclass(frozen=True)
class PreparedTx:
    raw: bytes
    tx_hash: str
    nonce: int


@dataclass(frozen=True)
class Minted:
    token_id: int
    to: str
    tx_hash: str
    block_number: int


@dataclass(frozen=True)
class Transfer:
    token_id: int
    from_: str
    to: str


@dataclass(frozen=True)
class TxReceipt:
    tx_hash: str
    status: int
    block_number: int
    gas_used: int
    minted: list[Minted] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    block_hash: str = ""


@dataclass(frozen=True)
class BlockHeader:
    """A block as the indexer records it: its place in the chain (hash, parent) and its time."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int  # seconds since the epoch


@dataclass(frozen=True)
class ChainLog:
    """One decoded event of our contracts (CreativeWorks, and Splits when configured), where it happened."""

    contract: str  # the emitting contract's checksummed address
    event: str  # the event's name in the contract's ABI (Transfer, TokenRoyaltySet, SplitCreated ...)
    args: dict[str, Any]  # its arguments by name, as web3 decodes them (addresses checksummed, bytes as bytes)
    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str


@dataclass(frozen=True)
class ChainHead:
    """Which chain a node serves and how far it is: what the chain watcher compares with its checkpoint."""

    chain_id: int
    genesis_hash: str
    number: int
    hash: str


class NonceSource(Protocol):
    """Where a Signer takes its nonces when several processes sign with one key (core.nonces.SharedNonces, wired
    in by the composition root on PostgreSQL). Without one, a Signer counts in memory (one process)."""

    def take(self, address: str, pending: Callable[[], int]) -> int: ...

    def free(self, address: str, nonce: int) -> None: ...

    def reset(self, address: str) -> None: ...


class Signer:
    """One key, serialised nonces: a lock, a local counter seeded from the pending count, re-read on demand; or,
    given a NonceSource, the counter every process shares."""

    def __init__(self, w3: Web3, private_key: str, nonces: NonceSource | None = None) -> None:
        self._w3 = w3
        self._account: LocalAccount = EthAccount.from_key(private_key)
        self._lock = threading.Lock()
        self._next_nonce: int | None = None
        self._nonces = nonces

    @property
    def address(self) -> str:
        return self._account.address

    def _pending(self) -> int:
        return self._w3.eth.get_transaction_count(self._account.address, "pending")

    def resync(self) -> None:
        """Forget the counter: the next nonce is the node's pending count again (after a lost transaction, a
        rewind, a nonce the node called too low or too high)."""
        if self._nonces is not None:
            self._nonces.reset(self._account.address)
            return
        with self._lock:
            self._next_nonce = None

    def free(self, nonce: int) -> None:
        """Hand back a nonce sign() gave for a transaction that will never be sent (recording it failed, its claim
        was lost): the next sign() uses it again, so no later transaction waits behind a gap."""
        if self._nonces is not None:
            self._nonces.free(self._account.address, nonce)
            return
        with self._lock:
            self._next_nonce = nonce if self._next_nonce == nonce + 1 else None

    def prime(self) -> None:
        """Read the pending nonce now if it is not known, so the next sign() asks the node nothing."""
        if self._nonces is not None:
            return  # the shared counter reads it under its row lock when it needs to
        with self._lock:
            if self._next_nonce is None:
                self._next_nonce = self._pending()

    def sign(self, tx: dict[str, Any]) -> PreparedTx:
        """Assign the next nonce and sign. The nonce is consumed: call free(nonce) if the tx is never sent."""
        with self._lock:
            if self._nonces is not None:
                nonce = self._nonces.take(self._account.address, self._pending)
            else:
                if self._next_nonce is None:
                    self._next_nonce = self._pending()
                nonce = self._next_nonce
                self._next_nonce = nonce + 1
        signed = self._account.sign_transaction({**tx, "nonce": nonce})
        return PreparedTx(raw=bytes(signed.raw_transaction), tx_hash=HexBytes(signed.hash).to_0x_hex(), nonce=nonce)

    def sign_at(self, tx: dict[str, Any], nonce: int) -> PreparedTx:
        """Sign with a nonce already used (a replacement of a pending transaction): the counter is left alone."""
        signed = self._account.sign_transaction({**tx, "nonce": nonce})
        return PreparedTx(raw=bytes(signed.raw_transaction), tx_hash=HexBytes(signed.hash).to_0x_hex(), nonce=nonce)


DEFAULT_PRIORITY_FEE_WEI = 1_000_000_000  # 1 gwei
REPLACEMENT_BUMP_PERMILLE = 125  # +12.5 %: above every node's minimum price bump for a replacement


def bumped(fee: int) -> int:
    """`fee` raised by REPLACEMENT_BUMP_PERMILLE, rounded up, and at least by 1 wei."""
    return fee + max(1, -(-fee * REPLACEMENT_BUMP_PERMILLE // 1000))


class ChainClient:
    def __init__(self, *, rpc_url: str, contract_address: str, minter_key: str, timeout_s: float = 10.0,
                 splits_address: str | None = None, max_fee_per_gas_wei: int | None = None,
                 priority_fee_wei: int = DEFAULT_PRIORITY_FEE_WEI, nonces: NonceSource | None = None) -> None:
        """`max_fee_per_gas_wei`: no transaction offers more per gas (MAX_FEE_PER_GAS_GWEI), replacements included;
        `priority_fee_wei`: the tip offered (PRIORITY_FEE_GWEI); `nonces`: the signers' shared nonce counter
        (several processes on one key), None: each Signer counts in memory."""
        self.rpc_url = rpc_url
        self.max_fee_per_gas_wei = max_fee_per_gas_wei
        self.priority_fee_wei = priority_fee_wei
        self.w3 = make_web3(rpc_url, timeout_s=timeout_s)
        self.contract_address = Web3.to_checksum_address(contract_address)
        self.contract = self.w3.eth.contract(address=self.contract_address, abi=load_artifact("CreativeWorks")["abi"])
        # the royalty splits of co-created works (Splits.sol); None: a deployment without co-created works
        self.splits_address = Web3.to_checksum_address(splits_address) if splits_address else None
        self.splits = (self.w3.eth.contract(address=self.splits_address, abi=load_artifact("Splits")["abi"])
                       if self.splits_address else None)
        self._nonces = nonces
        self.signer = Signer(self.w3, minter_key, nonces)
        self._signers: dict[str, Signer] = {}
        self._signers_lock = threading.Lock()
        self._chain_id: int | None = None
        self._timeout_s = timeout_s
        self._probe: Web3 | None = None
        self._refuse_writes: str | None = None  # set by the chain watcher when the node serves another chain
        self._fees_cache: tuple[float, dict[str, int]] | None = None

    # ---------------------------------------------------------------- reads
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self._call(lambda: self.w3.eth.chain_id)
        return self._chain_id

    def ping(self) -> int:
        """Raise ChainUnavailable unless the node answers and the contract is deployed."""
        code = self._call(lambda: self.w3.eth.get_code(self.contract_address))
        if not code:
            raise ChainUnavailable(f"No contract deployed at {self.contract_address} on {self.rpc_url}")
        return self.chain_id()

    def head(self) -> ChainHead:
        """The node's chain id (asked each time: not the cached one transactions are signed with), its genesis
        block and its latest block."""
        if self._probe is None:  # no request cache: a node restarted on another chain must show it
            self._probe = Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": self._timeout_s}))
        probe = self._probe
        chain_id = self._call(lambda: probe.eth.chain_id)
        genesis = self._call(lambda: probe.eth.get_block(0))
        latest = self._call(lambda: probe.eth.get_block("latest"))
        return ChainHead(chain_id=chain_id, genesis_hash=HexBytes(genesis["hash"]).to_0x_hex(),
                         number=latest["number"], hash=HexBytes(latest["hash"]).to_0x_hex())

    def block_hash(self, number: int) -> str | None:
        """The hash of the canonical block at this height, None above the head."""
        try:
            block = self._call(lambda: self.w3.eth.get_block(number))
        except BlockNotFound:
            return None
        return HexBytes(block["hash"]).to_0x_hex() if block else None

    def block_number(self) -> int:
        """The height of the node's latest block."""
        return self._call(lambda: self.w3.eth.block_number)

    def header(self, number: int) -> BlockHeader | None:
        """The canonical block at this height (hash, parent, time), None above the head."""
        try:
            block = self._call(lambda: self._rpc("eth_getBlockByNumber", [hex(number), False]))
        except BlockNotFound:
            return None
        if not block:
            return None
        return BlockHeader(number=_int(block["number"]), hash=_hex(block["hash"]),
                           parent_hash=_hex(block["parentHash"]), timestamp=_int(block["timestamp"]))

    def event_logs(self, from_block: int, to_block: int) -> list[ChainLog]:
        """Every event our contracts emitted in these blocks (both included), decoded with their ABIs, in chain
        order. Events the ABIs do not name are skipped (none today). The logs are read as plain JSON-RPC and
        events of scalar arguments (Transfer, TokenRoyaltySet, ...) decoded straight from their topics and data
        (web3's log formatting and process_log take most of an indexer step's reading time); the others through
        web3's decoder. Both give the same args (`_fast_decoder`'s test compares them)."""
        contracts = [c for c in (self.contract, self.splits) if c is not None]
        events = _events_by_topic(tuple(contracts))
        logs = self._call(lambda: self._rpc("eth_getLogs", [{
            "address": [c.address for c in contracts], "fromBlock": hex(from_block), "toBlock": hex(to_block)}]))
        decoded: list[ChainLog] = []
        for log in logs or []:
            if not log["topics"] or log.get("removed"):
                continue
            address = _checksum(log["address"])
            found = events.get((address, log["topics"][0].lower()))
            if found is None:
                continue
            name, event, fast = found
            args = fast(log) if fast is not None else dict(event.process_log(_formatted_log(log))["args"])
            decoded.append(ChainLog(contract=address, event=name, args=args, block_number=int(log["blockNumber"], 16),
                                    block_hash=log["blockHash"].lower(), log_index=int(log["logIndex"], 16),
                                    tx_hash=log["transactionHash"].lower()))
        return sorted(decoded, key=lambda e: (e.block_number, e.log_index))

    def owner_of(self, token_id: int) -> str | None:
        """One ownerOf call; a token that does not exist (ERC721NonexistentToken) has no owner."""
        try:
            return self._call(lambda: self.contract.functions.ownerOf(token_id).call())
        except ChainTransactionFailed:
            return None

    def has_code(self, address: str) -> bool:
        """Is there a contract at this address (a contract wallet, say)?"""
        return bool(self._call(lambda: self.w3.eth.get_code(Web3.to_checksum_address(address))))

    def is_valid_signature(self, wallet: str, message_hash: bytes, signature: bytes) -> bool:
        """EIP-1271: does the contract wallet say `signature` is its own for `message_hash`? A read
        (`isValidSignature(bytes32,bytes)` answering the magic value 0x1626ba7e, ABI-encoded: exactly 32 bytes, the
        magic then 28 zero bytes, as OpenZeppelin's SignatureChecker requires); a revert or any other answer: no (a
        contract whose fallback echoes its calldata answers bytes starting with the magic: no)."""
        data = (EIP1271_MAGIC + abi_encode(["bytes32", "bytes"], [message_hash, signature]))
        try:
            answer = self._call(lambda: self.w3.eth.call(
                {"to": Web3.to_checksum_address(wallet), "data": "0x" + data.hex()}))
        except ChainTransactionFailed:
            return False
        answer = bytes(answer)
        return len(answer) == 32 and answer == EIP1271_MAGIC + bytes(28)

    def is_operator(self, owner: str, operator: str) -> bool:
        """isApprovedForAll(owner, operator): may `operator` move every token `owner` holds?"""
        return bool(self._call(lambda: self.contract.functions.isApprovedForAll(
            Web3.to_checksum_address(owner), Web3.to_checksum_address(operator)).call()))

    def token_uri(self, token_id: int) -> str:
        return self._call(lambda: self.contract.functions.tokenURI(token_id).call())

    def royalty_info(self, token_id: int, sale_price: int) -> tuple[str, int]:
        receiver, amount = self._call(lambda: self.contract.functions.royaltyInfo(token_id, sale_price).call())
        return receiver, amount

    def find_mint(self, token_id: int) -> Minted | None:
        """The Transfer(0x0 -> owner) log that minted a token (there is at most one)."""
        return self._last_transfer(token_id, from_=ZERO_ADDRESS)

    def find_transfer(self, token_id: int, *, to: str) -> Minted | None:
        """The latest Transfer(* -> to) log of a token: how it reached `to`."""
        return self._last_transfer(token_id, to=to)

    def _last_transfer(self, token_id: int, *, from_: str | None = None, to: str | None = None) -> Minted | None:
        """Transfer logs filtered on their indexed topics (from, to, token id); the latest one, read from the topics.
        Scans from block 0: fine on anvil; a production chain needs the deployment block (the indexer issue)."""
        def topic(address: str | None) -> str | None:
            return None if address is None else "0x" + "00" * 12 + Web3.to_checksum_address(address)[2:].lower()

        logs = self._call(lambda: self.w3.eth.get_logs({
            "address": self.contract_address, "fromBlock": 0, "toBlock": "latest",
            "topics": [TRANSFER_TOPIC, topic(from_), topic(to), "0x" + token_id.to_bytes(32, "big").hex()],
        }))
        if not logs:
            return None
        log = logs[-1]
        return Minted(token_id=token_id, to=Web3.to_checksum_address(HexBytes(log["topics"][2])[-20:]),
                      tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(), block_number=log["blockNumber"])

    def eth_balance(self, address: str) -> int:
        return self._call(lambda: self.w3.eth.get_balance(Web3.to_checksum_address(address)))

    # ---------------------------------------------------------------- writes
    def signer_for(self, private_key: str | bytes) -> Signer:
        """One Signer per key for the life of the client (so its nonces stay serialised)."""
        account = EthAccount.from_key(private_key)
        with self._signers_lock:
            signer = self._signers.get(account.address)
            if signer is None:
                signer = self._signers[account.address] = Signer(self.w3, private_key, self._nonces)
            return signer

    def signer_for_address_resync(self, address: str) -> None:
        """Forget the local nonce of a signer, the platform's or a custody wallet's (after a lost transaction)."""
        address = Web3.to_checksum_address(address)
        with self._signers_lock:
            signer = self.signer if address == self.signer.address else self._signers.get(address)
        if signer is not None:
            signer.resync()

    def resync_signers(self) -> None:
        """Forget every signer's local nonce (after the chain was rewound or restarted: its pending counts moved)."""
        with self._signers_lock:
            signers = [self.signer, *self._signers.values()]
        for signer in signers:
            signer.resync()
        self._fees_cache = None

    def prepare_transfer(self, signer: Signer, *, to: str, token_id: int, from_: str | None = None) -> PreparedTx:
        """safeTransferFrom(from_ -> to, token) signed by its owner (from_ None: the signer) or an operator it
        approved. The calldata is encoded directly (eth_abi): web3's contract-function machinery costs more CPU
        than signing, on the delivery hot path."""
        data = _SAFE_TRANSFER_FROM + abi_encode(
            ["address", "address", "uint256"],
            [Web3.to_checksum_address(from_ or signer.address), Web3.to_checksum_address(to), token_id])
        tx = {"to": self.contract_address, "data": "0x" + data.hex(), "value": 0, "gas": TRANSFER_GAS,
              "chainId": self.chain_id(), **self.fees()}
        return signer.sign(tx)

    def prepare_transfer_batch(self, signer: Signer, moves: list[tuple[str, str, int]]) -> PreparedTx:
        """transferBatch of (from, to, token) moves in one transaction, all or nothing, signed by the owner of them
        all or by an operator every owner approved; one move is a plain safeTransferFrom. Either way the receipt's
        Transfer events say which token went where."""
        if len(moves) == 1:
            (from_, to, token_id), = moves
            return self.prepare_transfer(signer, to=to, token_id=token_id, from_=from_)
        data = transfer_batch_calldata(moves)
        tx = {"to": self.contract_address, "data": "0x" + data.hex(), "value": 0, "gas": transfer_gas(len(moves)),
              "chainId": self.chain_id(), **self.fees()}
        return signer.sign(tx)

    def prepare_set_operator(self, signer: Signer, operator: str) -> PreparedTx:
        """setApprovalForAll(operator, true) from the signer's wallet: the operator may move all its tokens."""
        data = _SET_APPROVAL_FOR_ALL + abi_encode(["address", "bool"], [Web3.to_checksum_address(operator), True])
        tx = {"to": self.contract_address, "data": "0x" + data.hex(), "value": 0, "gas": APPROVAL_GAS,
              "chainId": self.chain_id(), **self.fees()}
        return signer.sign(tx)

    def prepare_value_transfer(self, *, to: str, value_wei: int) -> PreparedTx:
        """Plain ETH from the platform signer (gas money for a custodial wallet)."""
        tx = {"to": Web3.to_checksum_address(to), "value": value_wei, "gas": 21_000, "chainId": self.chain_id(),
              **self.fees()}
        return self.signer.sign(tx)

    def prepare_mint_batch(self, requests_: list[MintRequest], *, fees: dict[str, int] | None = None) -> PreparedTx:
        """Build and sign a mintBatch transaction (not sent). Store its hash before calling send().

        The calldata is encoded directly (eth_abi), as for transfers: web3's contract-function machinery
        (build_transaction) cost ~25 ms of CPU for a batch of 50, more than everything else the worker does."""
        return self._prepare_call(mint_batch_calldata([r.as_abi() for r in requests_]),
                                  gas=mint_batch_gas(len(requests_)), fees=fees)

    def prepare_mint(self, request: MintRequest) -> PreparedTx:
        return self._prepare_call(mint_calldata(request.as_abi()), gas=MINT_GAS)

    def _prepare_call(self, data: bytes, *, gas: int, signer: Signer | None = None,
                      fees: dict[str, int] | None = None) -> PreparedTx:
        """Sign a call of the contract with already encoded calldata (selector + arguments); `fees` as read by
        fees() (read now when not given)."""
        tx = {"to": self.contract_address, "data": "0x" + data.hex(), "value": 0, "gas": gas,
              "chainId": self.chain_id(), **(fees or self.fees())}
        return (signer or self.signer).sign(tx)

    def fees(self) -> dict[str, int]:
        """EIP-1559 fees with room for the base fee to double; read at most once a second."""
        now = time.monotonic()
        cached = self._fees_cache
        if cached is not None and now - cached[0] < 1.0:
            return cached[1]
        # the header fields only, unformatted: web3's get_block formats the whole block (~2 ms, more when full)
        block = self._call(lambda: self._rpc("eth_getBlockByNumber", ["latest", False])) or {}
        base_fee = int(block.get("baseFeePerGas") or "0x0", 16)
        fees = self._capped(2 * base_fee + self.priority_fee_wei, self.priority_fee_wei)
        if base_fee > fees["maxFeePerGas"]:
            log.warning("base fee %d wei is above MAX_FEE_PER_GAS (%d wei): transactions wait for it to fall",
                        base_fee, fees["maxFeePerGas"])
        self._fees_cache = (now, fees)
        return fees

    def _capped(self, max_fee: int, tip: int) -> dict[str, int]:
        cap = self.max_fee_per_gas_wei
        if cap is not None:
            max_fee = min(max_fee, cap)
        return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": min(tip, max_fee)}

    def replacement(self, tx_hash: str, *, signer: Signer | None = None) -> PreparedTx | None:
        """The pending transaction `tx_hash` of `signer` (the platform's by default) signed again with the same
        nonce, recipient, data, value and gas, and both fees raised by at least REPLACEMENT_BUMP (nodes refuse a
        replacement under +10 %; some under +12.5 %) or to the current fees when those are higher, within the fee
        cap. None when there is nothing to replace (mined, unknown to the node, another key's) or the cap leaves no
        room for the bump. Whichever of the two is mined, the other never is (one nonce)."""
        signer = signer or self.signer
        tx = self._call(lambda: self._rpc("eth_getTransactionByHash", [tx_hash]))
        if not tx or tx.get("blockNumber") or Web3.to_checksum_address(tx["from"]) != signer.address:
            return None
        old_max, old_tip = _int(tx.get("maxFeePerGas") or tx["gasPrice"]), _int(
            tx.get("maxPriorityFeePerGas") or tx["gasPrice"])
        self._fees_cache = None  # the current fees, not a second-old read
        current = self.fees()
        wanted_max = max(bumped(old_max), current["maxFeePerGas"])
        wanted_tip = max(bumped(old_tip), current["maxPriorityFeePerGas"])
        fees = self._capped(wanted_max, wanted_tip)
        if fees["maxFeePerGas"] < bumped(old_max) or fees["maxPriorityFeePerGas"] < bumped(old_tip):
            log.warning("transaction %s is stuck but MAX_FEE_PER_GAS leaves no room to bump its fees", tx_hash)
            return None
        fields = {"to": Web3.to_checksum_address(tx["to"]), "data": tx["input"], "value": _int(tx["value"]),
                  "gas": _int(tx["gas"]), "chainId": self.chain_id(), "type": 2, **fees}
        return signer.sign_at(fields, _int(tx["nonce"]))

    @property
    def writes_refused(self) -> bool:
        return self._refuse_writes is not None

    def refuse_writes(self, reason: str) -> None:
        """From now on send() raises ChainUnavailable (the chain watcher found another chain behind RPC_URL)."""
        self._refuse_writes = reason

    def allow_writes(self) -> None:
        self._refuse_writes = None

    def send(self, prepared: PreparedTx, *, signer: Signer | None = None) -> str:
        """Send a signed transaction. Already-known transactions count as sent (idempotent re-send)."""
        signer = signer or self.signer
        if self._refuse_writes is not None:
            signer.free(prepared.nonce)  # this nonce is never used
            raise ChainUnavailable(f"Not sending to this chain: {self._refuse_writes}")
        try:
            self.w3.eth.send_raw_transaction(prepared.raw)
        except Web3RPCError as exc:
            if chain_errors.is_already_known(str(exc)):
                return prepared.tx_hash
            kind = chain_errors.classify(str(exc))
            if issubclass(kind, (chain_errors.NonceTooLow, chain_errors.NonceTooHigh)):
                signer.resync()
            raise kind(f"Transaction rejected by the node: {exc}") from exc
        except _NETWORK_ERRORS as exc:
            signer.resync()
            raise ChainUnavailable(f"Chain node unreachable at {self.rpc_url}: {exc}") from exc
        return prepared.tx_hash

    def get_receipt(self, tx_hash: str) -> TxReceipt | None:
        """The typed receipt, or None while the node knows no mined transaction of that hash.

        Asked with a plain JSON-RPC request and decoded from its hex fields: web3's receipt formatters (an
        AttributeDict and HexBytes for every field of every log) cost ~15 ms of CPU for a 50-token batch."""
        receipt = self._call(lambda: self._rpc("eth_getTransactionReceipt", [tx_hash]))
        if receipt is None:
            return None
        return self._typed(receipt)

    def _rpc(self, method: str, params: list):
        """One JSON-RPC request through the provider (no result formatting); an error answer raises Web3RPCError."""
        response = self.w3.provider.make_request(method, params)
        if "error" in response:
            error = response["error"]
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
            raise Web3RPCError(message, rpc_response=response)
        return response.get("result")

    def wait_for_receipt(self, tx_hash: str, *, timeout_s: float = 60.0, poll_s: float = 0.05) -> TxReceipt | None:
        """The receipt once mined, else None after timeout_s. Polls 2 ms after the send, then backs off by half
        again each time up to poll_s: a local chain mines within milliseconds (a fixed 50 ms sleep after a first
        miss doubled the delivery latency there), and a block of 50 transfers within tens of them, where doubling
        the sleep overshot by up to the time already waited; against a real chain the backoff reaches poll_s
        after a few reads."""
        polling = Retrying(
            retry=retry_if_result(lambda receipt: receipt is None),
            wait=wait_exponential(multiplier=0.002, exp_base=1.5, max=poll_s),
            stop=stop_after_delay(timeout_s),
            retry_error_callback=lambda _state: None,  # no receipt in time: None, the caller reconciles later
        )
        return polling(self.get_receipt, tx_hash)

    def tx_known(self, tx_hash: str) -> bool:
        try:
            self._call(lambda: self.w3.eth.get_transaction(tx_hash))
            return True
        except TransactionNotFound:
            return False

    def _typed(self, receipt) -> TxReceipt:
        """Results from the decoded Transfer events (all three arguments are indexed: read them from the topics).
        `receipt` is the node's JSON (hex strings) or web3's formatted receipt (ints and bytes)."""
        minted: list[Minted] = []
        transfers: list[Transfer] = []
        tx_hash = _hex(receipt["transactionHash"])
        status, block_number = _int(receipt["status"]), _int(receipt["blockNumber"])
        if status == 1:
            contract = self.contract_address.lower()
            for log in receipt["logs"]:
                topics = [_hex(t) for t in log["topics"]]
                if len(topics) != 4 or topics[0] != TRANSFER_TOPIC or _hex(log["address"]) != contract:
                    continue
                from_, to = _topic_address(topics[1]), _topic_address(topics[2])
                token_id = int(topics[3], 16)
                transfers.append(Transfer(token_id=token_id, from_=from_, to=to))
                if from_ == ZERO_ADDRESS:
                    minted.append(Minted(token_id=token_id, to=to, tx_hash=tx_hash, block_number=block_number))
        return TxReceipt(
            tx_hash=tx_hash,
            status=status,
            block_number=block_number,
            gas_used=_int(receipt["gasUsed"]),
            minted=minted,
            transfers=transfers,
            block_hash=HexBytes(receipt["blockHash"]).to_0x_hex() if receipt.get("blockHash") else "",
        )

    # ---------------------------------------------------------------- royalty splits (Splits.sol)
    def split_address(self, accounts_shares) -> str:
        """The wallet address of the split paying these (address, basis points) by share: computed here, no node
        asked; equal to Splits.predictSplitAddress. It can be a token's royalty receiver before the split exists."""
        return predict_split_address(self._splits_or_raise().address, accounts_shares)

    def split_exists(self, split: str) -> bool:
        """Is the split wallet at this address created (has it code)?"""
        return bool(self._call(lambda: self.w3.eth.get_code(Web3.to_checksum_address(split))))

    def withdrawable(self, account: str) -> int:
        """The wei Splits owes `account` (credited by distributions, not yet withdrawn)."""
        splits = self._splits_or_raise()
        return self._call(lambda: splits.functions.withdrawable(Web3.to_checksum_address(account)).call())

    def prepare_create_split(self, accounts_shares, *, signer: Signer | None = None,
                             fees: dict[str, int] | None = None, simulate: bool = True) -> PreparedTx:
        """createSplit, signed (not sent). simulate=False asks the node nothing (the mint worker signs it inside its
        write-ahead, with the fees it read before)."""
        accounts, shares = split_recipients(accounts_shares)
        return self._prepare_splits_call("createSplit", accounts, shares, gas=gas_for(CREATE_SPLIT_GAS, len(accounts)),
                                         signer=signer, fees=fees, simulate=simulate)

    def prepare_distribute_eth(self, accounts_shares, *, signer: Signer | None = None) -> PreparedTx:
        accounts, shares = split_recipients(accounts_shares)
        return self._prepare_splits_call("distributeETH", accounts, shares, gas=gas_for(DISTRIBUTE_GAS, len(accounts)),
                                         signer=signer)

    def prepare_withdraw(self, account: str, *, signer: Signer | None = None) -> PreparedTx:
        return self._prepare_splits_call("withdraw", Web3.to_checksum_address(account), gas=WITHDRAW_GAS,
                                         signer=signer)

    def create_split(self, accounts_shares, *, signer: Signer | None = None) -> str:
        """Create the split (its wallet) unless it exists; returns its address. Idempotent by construction: the
        address is the split, so asking again, or after a crash, finds it or creates the same one."""
        split = self.split_address(accounts_shares)
        if not self.split_exists(split):
            self._transact(self.prepare_create_split(accounts_shares, signer=signer), signer=signer)
        return split

    def distribute_eth(self, accounts_shares, *, signer: Signer | None = None) -> int:
        """Credit what the split's wallet holds to its recipients by share; returns the wei distributed."""
        receipt = self._transact(self.prepare_distribute_eth(accounts_shares, signer=signer), signer=signer)
        return _event_amount(receipt, DISTRIBUTED_TOPIC)

    def withdraw(self, account: str, *, signer: Signer | None = None) -> int:
        """Send `account` all Splits owes it (anyone's signer may pay for it); returns the wei sent."""
        receipt = self._transact(self.prepare_withdraw(account, signer=signer), signer=signer)
        return _event_amount(receipt, WITHDRAWN_TOPIC)

    def _splits_or_raise(self):
        if self.splits is None:
            raise ChainUnavailable("No split contract is configured (SPLITS_ADDRESS)")
        return self.splits

    def _prepare_splits_call(self, function: str, *args, gas: int, signer: Signer | None,
                             fees: dict[str, int] | None = None, simulate: bool = True) -> PreparedTx:
        """Simulate the call first (eth_call: a revert says why, as ChainTransactionFailed, before anything is
        signed), then sign it."""
        splits = self._splits_or_raise()
        if simulate:
            call = getattr(splits.functions, function)(*args)
            sender = (signer or self.signer).address
            self._call(lambda: call.call({"from": sender}))
        tx = {"to": self.splits_address, "data": splits.encode_abi(function, args=list(args)), "value": 0,
              "gas": gas, "chainId": self.chain_id(), **(fees or self.fees())}
        return (signer or self.signer).sign(tx)

    def _transact(self, prepared: PreparedTx, *, signer: Signer | None = None) -> dict:
        """Send and wait for the receipt (the node's JSON); a reverted or unmined transaction raises."""
        self.send(prepared, signer=signer)
        if self.wait_for_receipt(prepared.tx_hash) is None:
            raise ChainUnavailable(f"Transaction {prepared.tx_hash} was not mined in time")
        receipt = self._call(lambda: self._rpc("eth_getTransactionReceipt", [prepared.tx_hash]))
        if _int(receipt["status"]) != 1:
            raise ChainTransactionFailed(f"Transaction {prepared.tx_hash} reverted")
        return receipt

    def _call(self, fn, *, retries: int = 1):
        """Run a read; node-side RPC errors (e.g. a state not yet available) are retried once, then 503."""
        try:
            for attempt in Retrying(retry=retry_if_exception(_node_side_error), stop=stop_after_attempt(retries + 1),
                                    wait=wait_fixed(0.05), reraise=True):
                with attempt:
                    return fn()
        except ContractLogicError as exc:
            raise ChainTransactionFailed(f"Contract call reverted: {exc}") from exc
        except (TransactionNotFound, BlockNotFound):  # answers, not errors (Web3RPCError subclasses in web3 8)
            raise
        except _NETWORK_ERRORS as exc:
            raise ChainUnavailable(f"Chain node unreachable at {self.rpc_url}") from exc
        except Web3RPCError as exc:
            raise ChainUnavailable(f"Chain node error at {self.rpc_url}: {exc}") from exc




@lru_cache(maxsize=16)
def _events_by_topic(contracts: tuple) -> dict[tuple[str, str], tuple[str, Any, Any]]:
    """(contract address, topic 0) -> (the event's name, the contract's event object that decodes it, a fast
    decoder of its args or None)."""
    found: dict[tuple[str, str], tuple[str, Any, Any]] = {}
    for contract in contracts:
        for entry in contract.abi:
            if entry.get("type") == "event" and not entry.get("anonymous"):
                signature = f"{entry['name']}({','.join(_abi_type(i) for i in entry['inputs'])})"
                topic = Web3.keccak(text=signature).to_0x_hex()
                found[(contract.address, topic)] = (entry["name"], contract.events[entry["name"]](),
                                                    _fast_decoder(entry))
    return found


_SCALAR = re.compile(r"^(address|bool|u?int\d*|bytes([1-9]|[12]\d|3[0-2]))$")


def _fast_decoder(entry: dict):
    """A decoder of a raw JSON-RPC log of this event into web3's args (addresses checksummed, integers, bytes),
    for events whose every argument is a scalar (a fixed-size value in one 32-byte word, indexed or not); None for
    the others (arrays, strings, tuples: web3 decodes those)."""
    inputs = entry["inputs"]
    if not all(_SCALAR.match(i["type"]) for i in inputs):
        return None
    indexed = [(i["name"], _word_decoder(i["type"])) for i in inputs if i.get("indexed")]
    plain = [(i["name"], _word_decoder(i["type"])) for i in inputs if not i.get("indexed")]
    order = [i["name"] for i in inputs]

    def decode(log: dict) -> dict[str, Any]:
        topics, data = log["topics"][1:], log["data"][2:]
        if len(topics) != len(indexed) or len(data) != 64 * len(plain):
            raise ValueError(f"{entry['name']}: the log does not have the ABI's {len(indexed)} topics and "
                             f"{len(plain)} data words")
        args = {name: word(topic[2:]) for (name, word), topic in zip(indexed, topics, strict=True)}
        args.update((name, word(data[64 * n:64 * (n + 1)])) for n, (name, word) in enumerate(plain))
        return {name: args[name] for name in order}  # in the ABI's order, as web3 gives them

    return decode


def _word_decoder(kind: str):
    """The value of one 32-byte ABI word (64 hex digits) of a scalar type, as eth_abi decodes it (and refuses
    what it refuses: an address or a small integer with dirty high bits, a bool other than 0 or 1)."""
    if kind == "address":
        def address(word: str) -> str:
            if int(word[:24], 16):
                raise ValueError(f"not an address word: {word}")
            return _checksum("0x" + word[24:])
        return address
    if kind == "bool":
        def boolean(word: str) -> bool:
            value = int(word, 16)
            if value > 1:
                raise ValueError(f"not a bool word: {word}")
            return value == 1
        return boolean
    if kind.startswith("bytes"):
        size = int(kind[5:])
        def fixed_bytes(word: str) -> bytes:
            if int(word[2 * size:] or "0", 16):
                raise ValueError(f"not a bytes{size} word: {word}")
            return bytes.fromhex(word[:2 * size])
        return fixed_bytes
    signed = kind.startswith("int")
    bits = int(kind.lstrip("uint") or 256)

    def integer(word: str) -> int:
        value = int(word, 16)
        if signed and value >= 2**255:
            value -= 2**256
        if not (-(2 ** (bits - 1)) <= value < 2 ** (bits - 1) if signed else value < 2**bits):
            raise ValueError(f"not a {kind} word: {word}")
        return value
    return integer


@lru_cache(maxsize=4096)
def _checksum(address: str) -> str:
    return Web3.to_checksum_address(address)


def _formatted_log(log: dict) -> dict[str, Any]:
    """A raw JSON-RPC log in the shape web3's process_log takes (what eth.get_logs would have returned)."""
    return {"address": _checksum(log["address"]), "topics": [HexBytes(t) for t in log["topics"]],
            "data": HexBytes(log["data"]), "blockNumber": int(log["blockNumber"], 16),
            "blockHash": HexBytes(log["blockHash"]), "logIndex": int(log["logIndex"], 16),
            "transactionHash": HexBytes(log["transactionHash"]),
            "transactionIndex": int(log["transactionIndex"], 16), "removed": False}


def _abi_type(param: dict) -> str:
    """A parameter's canonical type in an event signature (tuples spelled out)."""
    kind = param["type"]
    if kind.startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){kind[len('tuple'):]}"
    return kind


def _node_side_error(exc: BaseException) -> bool:
    """A read worth one more try: the node answered with an error (say, a state not yet available), not a revert
    or a 'not found' answer."""
    return isinstance(exc, Web3RPCError) and not isinstance(
        exc, (ContractLogicError, TransactionNotFound, BlockNotFound))


def gas_for(limits: tuple[int, int], recipients: int) -> int:
    """A Splits call's gas limit for a split of `recipients`: (base, per recipient) limits, e.g. DISTRIBUTE_GAS."""
    base, each = limits
    return base + each * recipients


def _event_amount(receipt: dict, topic: str) -> int:
    """The uint256 data of the receipt's (Splits) event with this topic; 0 when there is none (nothing to do)."""
    for log in receipt["logs"]:
        if log["topics"] and _hex(log["topics"][0]) == topic:
            return int(_hex(log["data"]), 16)
    return 0


def _hex(value) -> str:
    """0x-prefixed lower-case hex of a JSON hex string or of bytes."""
    return value.lower() if isinstance(value, str) else HexBytes(value).to_0x_hex()


def _int(value) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


@lru_cache(maxsize=4096)
def _topic_address(topic: str) -> str:
    """The checksummed address in an indexed topic (cached: a batch names the same few wallets again and again)."""
    return Web3.to_checksum_address("0x" + topic[-40:])


def deploy(*, rpc_url: str, deployer_key: str, name: str, symbol: str, admin: str, minter: str) -> str:
    """Deploy CreativeWorks; returns its checksummed address (used by `marketplace dev` and tests)."""
    return deploy_artifact(rpc_url=rpc_url, deployer_key=deployer_key, artifact="CreativeWorks",
                           args=(name, symbol, admin, minter))


def deploy_splits(*, rpc_url: str, deployer_key: str) -> str:
    """Deploy Splits (no arguments, no owner); returns its checksummed address."""
    return deploy_artifact(rpc_url=rpc_url, deployer_key=deployer_key, artifact="Splits")


def deploy_artifact(*, rpc_url: str, deployer_key: str, artifact: str, args: tuple = ()) -> str:
    w3 = make_web3(rpc_url)
    art = load_artifact(artifact)
    contract = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    signer = Signer(w3, deployer_key)
    tx = contract.constructor(*args).build_transaction({"from": signer.address, "chainId": w3.eth.chain_id})
    tx.pop("nonce", None)
    prepared = signer.sign(tx)
    w3.eth.send_raw_transaction(prepared.raw)
    receipt = w3.eth.wait_for_transaction_receipt(prepared.tx_hash, timeout=60)
    if receipt["status"] != 1:
        raise ChainTransactionFailed(f"Deployment of {artifact} reverted")
    return Web3.to_checksum_address(receipt["contractAddress"])
