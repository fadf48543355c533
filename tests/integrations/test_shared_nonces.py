"""Two processes signing with one key on one PostgreSQL database: the signer_nonce row gives every transaction its
own nonce, contiguous, and a nonce handed back is used again (against a real anvil)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session

from marketplace.core import db
from marketplace.core.nonces import SharedNonces, SignerNonce
from marketplace.integrations.chain.client import EthAccount, Signer, make_web3


def _transfer(w3, signer: Signer) -> tuple[int, str]:
    prepared = signer.sign({"to": "0x000000000000000000000000000000000000dEaD", "value": 1, "gas": 21000,
                            "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9, "chainId": w3.eth.chain_id,
                            "type": 2})
    w3.eth.send_raw_transaction(prepared.raw)
    return prepared.nonce, prepared.tx_hash


@pytest.fixture
def funded_key(anvil):
    account = EthAccount.create()
    w3 = make_web3(anvil.rpc_url)
    w3.provider.make_request("anvil_setBalance", [account.address, hex(10**20)])
    return account.key.hex()


def _mined_nonces(w3, hashes: list[str]) -> list[int]:
    receipts = [w3.eth.wait_for_transaction_receipt(h, timeout=30) for h in hashes]
    assert all(r["status"] == 1 for r in receipts)
    return sorted(w3.eth.get_transaction(h)["nonce"] for h in hashes)


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_signers_of_one_key_sign_and_send_concurrently_without_a_clash(db_url, anvil, funded_key):
    # two Signers on one key, each with its own node connection, as two processes have
    w3s = [make_web3(anvil.rpc_url), make_web3(anvil.rpc_url)]
    signers = [Signer(w3, funded_key, SharedNonces()) for w3 in w3s]

    def send_many(i: int) -> list[tuple[int, str]]:
        return [_transfer(w3s[i % 2], signers[i % 2]) for _ in range(10)]

    with ThreadPoolExecutor(4) as pool:
        sent = [tx for batch in pool.map(send_many, range(4)) for tx in batch]
    assert sorted(n for n, _ in sent) == list(range(40))  # every nonce once, none skipped
    assert _mined_nonces(w3s[0], [h for _, h in sent]) == list(range(40))
    assert w3s[0].eth.get_transaction_count(signers[0].address) == 40
    with Session(db.get_engine()) as session:
        assert session.get(SignerNonce, signers[0].address).next_nonce == 40


SIGNING_PROCESS = textwrap.dedent("""
    import sys
    from marketplace.core import db
    from marketplace.core.nonces import SharedNonces
    from marketplace.integrations.chain.client import Signer, make_web3
    db.init_engine(sys.argv[1])
    w3 = make_web3(sys.argv[2])
    signer = Signer(w3, sys.argv[3], SharedNonces())
    for _ in range(15):
        prepared = signer.sign({"to": "0x000000000000000000000000000000000000dEaD", "value": 1, "gas": 21000,
                                "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9, "chainId": w3.eth.chain_id,
                                "type": 2})
        w3.eth.send_raw_transaction(prepared.raw)
        print(prepared.tx_hash, flush=True)
""")


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_processes_signing_with_one_key_get_contiguous_nonces(db_url, anvil, funded_key):
    procs = [subprocess.Popen([sys.executable, "-c", SIGNING_PROCESS, db_url, anvil.rpc_url, funded_key],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]
    hashes = [h for out, _ in outputs for h in out.split()]
    assert len(hashes) == 45
    w3 = make_web3(anvil.rpc_url)
    assert _mined_nonces(w3, hashes) == list(range(45))
    assert w3.eth.get_transaction_count(EthAccount.from_key(funded_key).address) == 45


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_nonce_never_sent_is_given_again_before_the_counter_moves_on(db_url, anvil, funded_key):
    w3 = make_web3(anvil.rpc_url)
    one, other = Signer(w3, funded_key, SharedNonces()), Signer(w3, funded_key, SharedNonces())
    tx = {"to": "0x000000000000000000000000000000000000dEaD", "value": 1, "gas": 21000, "maxFeePerGas": 10**11,
          "maxPriorityFeePerGas": 10**9, "chainId": w3.eth.chain_id, "type": 2}
    lost = one.sign(tx)  # its write-ahead fails: never sent
    later = other.sign(tx)  # the other process signed the next one meanwhile
    assert (lost.nonce, later.nonce) == (0, 1)
    w3.eth.send_raw_transaction(later.raw)  # waits on the node behind the gap
    one.free(lost.nonce)
    refill = other.sign(tx)
    assert refill.nonce == 0  # the gap is filled first ...
    w3.eth.send_raw_transaction(refill.raw)
    assert one.sign(tx).nonce == 2  # ... and the counter goes on after the later one
    w3.eth.wait_for_transaction_receipt(later.tx_hash, timeout=30)
    assert w3.eth.get_transaction_count(one.address) == 2  # both mined: no gap left
    # the last one is never sent either, and nobody took one after it: the counter steps back
    one.free(2)
    assert other.sign(tx).nonce == 2
    # a reset (a rewind, a lost transaction) reads the node's pending count again
    other.resync()
    assert one.sign(tx).nonce == 2
