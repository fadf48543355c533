"""EIP-1559 fees on a real anvil: the MAX_FEE_PER_GAS cap, and a stuck transaction (its max fee under the base
fee) replaced with the same nonce and fees bumped by 12.5 %, which the node mines instead of the original; the mint
worker does it for its own stale transactions. The key from MINTER_PRIVATE_KEY_FILE."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from devtools.anvil import DEV_KEYS
from marketplace.core import db, observability
from marketplace.core.config import Settings
from marketplace.integrations.chain import client as chain_client
from marketplace.integrations.chain.client import ChainClient, bumped
from marketplace.minting.models import MintJob

pytestmark = [pytest.mark.chain]
GWEI = 10**9
# anvil's funded dev account #3 (no other test signs with it, so its nonces are this file's own)
SPARE_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
RECIPIENT = "0x000000000000000000000000000000000000dEaD"
FILE_KEY = "0x" + "4f" * 32


def test_bumped_is_at_least_an_eighth_more_rounded_up():
    assert bumped(1000) == 1125 and bumped(1001) == 1127 and bumped(0) == 1 and bumped(7) == 8
    for fee in (1, 9, 10**9, 3 * 10**9 + 7):
        assert bumped(fee) * 8 >= fee * 9 and bumped(fee) > fee


def test_fees_are_capped_by_max_fee_per_gas(anvil, contract_address):
    capped = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0],
                         max_fee_per_gas_wei=2 * GWEI, priority_fee_wei=3 * GWEI)
    assert capped.fees() == {"maxFeePerGas": 2 * GWEI, "maxPriorityFeePerGas": 2 * GWEI}
    free = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0],
                       priority_fee_wei=GWEI // 2)
    assert free.fees()["maxPriorityFeePerGas"] == GWEI // 2


def _stick(rpc, chain: ChainClient) -> chain_client.PreparedTx:
    """Send a transfer with automine off and mine nothing: the node holds it, unmined, as a busy chain holds a
    transaction whose fees are too low for it. (Anvil evicts a transaction at once when the base fee rises above its
    max fee, so that path cannot be staged here.)"""
    prepared = chain.prepare_value_transfer(to=RECIPIENT, value_wei=12345)
    chain.send(prepared)
    assert chain.get_receipt(prepared.tx_hash) is None and chain.tx_known(prepared.tx_hash)
    return prepared


def test_a_stuck_transaction_is_replaced_with_the_same_nonce_and_mined_instead(anvil, rpc, contract_address):
    chain = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=SPARE_KEY)
    rpc("evm_setAutomine", False)
    try:
        before = chain.eth_balance(RECIPIENT)
        stuck = _stick(rpc, chain)
        old = rpc("eth_getTransactionByHash", stuck.tx_hash)
        replacement = chain.replacement(stuck.tx_hash)
        assert replacement is not None and replacement.nonce == stuck.nonce
        assert replacement.tx_hash != stuck.tx_hash
        chain.send(replacement)
        new = rpc("eth_getTransactionByHash", replacement.tx_hash)
        assert int(new["maxFeePerGas"], 16) >= bumped(int(old["maxFeePerGas"], 16))
        assert int(new["maxPriorityFeePerGas"], 16) >= bumped(int(old["maxPriorityFeePerGas"], 16))
        assert (new["to"], new["value"], new["input"]) == (old["to"], old["value"], old["input"])
        rpc("evm_mine")
        receipt = chain.get_receipt(replacement.tx_hash)
        assert receipt is not None and receipt.status == 1
        assert chain.get_receipt(stuck.tx_hash) is None and not chain.tx_known(stuck.tx_hash)
        assert chain.eth_balance(RECIPIENT) == before + 12345  # paid once
        assert chain.replacement(replacement.tx_hash) is None  # mined: nothing to replace
    finally:
        rpc("evm_setAutomine", True)


def test_no_replacement_when_the_fee_cap_leaves_no_room_for_the_bump(anvil, rpc, contract_address):
    """(Anvil itself takes a replacement 1 wei dearer; geth and others want +10 %: the bump is ours to keep.)"""
    chain = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=SPARE_KEY)
    rpc("evm_setAutomine", False)
    try:
        stuck = _stick(rpc, chain)
        old = rpc("eth_getTransactionByHash", stuck.tx_hash)
        capped = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=SPARE_KEY,
                             max_fee_per_gas_wei=int(old["maxFeePerGas"], 16))
        assert capped.replacement(stuck.tx_hash) is None  # the cap leaves no room for a bump
        chain.send(chain.replacement(stuck.tx_hash))
        rpc("evm_mine")
    finally:
        rpc("evm_setAutomine", True)
        rpc("evm_mine")


@pytest.mark.ipfs
def test_the_mint_worker_replaces_its_stuck_transaction(make_client, rpc, anvil):
    from tests.conftest import Api

    client = make_client(worker_stale_submit_s=0.3)
    services = client.app.state.services
    services.worker.receipt_timeout_s = 0.5  # the worker gives up waiting soon, then reconciles
    chain = services.chain
    api = Api(client)
    creator = api.register()
    work = api.upload(creator).json()
    replaced_before = observability.CHAIN_TX_REPLACED._value.get()
    rpc("evm_setAutomine", False)
    try:
        assert client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
        first = _wait(lambda: _job(work["id"]).tx_hash if _job(work["id"]) else None)
        old = _wait(lambda: rpc("eth_getTransactionByHash", first))  # sent: the node holds it
        # nothing mines it: after WORKER_STALE_SUBMIT_S the worker sends it again, same nonce, higher fees
        replaced = _wait(lambda: _job(work["id"]).tx_hash if _job(work["id"]).tx_hash != first else None)
        new = rpc("eth_getTransactionByHash", replaced)
        assert new["nonce"] == old["nonce"] and new["input"] == old["input"]
        assert int(new["maxFeePerGas"], 16) >= bumped(int(old["maxFeePerGas"], 16))
        rpc("evm_mine")
    finally:
        rpc("evm_setAutomine", True)
    api.wait_for_status(work["id"], "minted", timeout=30)
    job = _job(work["id"])  # the hash of the replacement mined (the worker may have bumped it more than once)
    assert job.tx_hash != first and job.status == "confirmed"
    receipt = chain.get_receipt(job.tx_hash)
    assert receipt.status == 1 and chain.get_receipt(first) is None
    assert rpc("eth_getTransactionByHash", job.tx_hash)["nonce"] == old["nonce"]
    assert observability.CHAIN_TX_REPLACED._value.get() >= replaced_before + 1


def _job(work_id: int) -> MintJob | None:
    with db.session_scope() as session:
        return session.exec(select(MintJob).where(MintJob.work_id == work_id)).first()


def _wait(read, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_the_minter_key_is_read_from_a_file_and_never_logged(tmp_path, make_client, caplog):
    key_file = tmp_path / "minter.key"
    key_file.write_text(FILE_KEY + "\n")
    settings = Settings(_env_file=None, env="test", minter_private_key_file=key_file)
    assert settings.minter_private_key.get_secret_value() == FILE_KEY
    assert FILE_KEY not in repr(settings) and FILE_KEY not in str(settings.model_dump())
    with pytest.raises(ValueError, match="MINTER_PRIVATE_KEY_FILE"):
        Settings(_env_file=None, env="test", minter_private_key_file=tmp_path / "missing")


@pytest.mark.ipfs
def test_the_mint_worker_stops_bumping_after_max_replacements(make_client, rpc, anvil):
    """Fees compound +12.5 % per replacement: after MAX_REPLACEMENTS the worker leaves the transaction alone (an
    error, marketplace_chain_tx_stuck), whatever the time it stays unmined; mined, it settles the job."""
    from marketplace.minting.worker import MAX_REPLACEMENTS
    from tests.conftest import Api

    client = make_client(worker_stale_submit_s=0.2)
    services = client.app.state.services
    services.worker.receipt_timeout_s = 0.3
    api = Api(client)
    creator = api.register()
    work = api.upload(creator).json()
    stuck_before = observability.CHAIN_TX_STUCK._value.get()
    rpc("evm_setAutomine", False)
    try:
        assert client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
        first = _wait(lambda: _job(work["id"]).tx_hash if _job(work["id"]) else None)
        old = _wait(lambda: rpc("eth_getTransactionByHash", first))
        _wait(lambda: _job(work["id"]).replacements >= MAX_REPLACEMENTS)
        last = _job(work["id"]).tx_hash
        time.sleep(2.0)  # ten stale periods more: no more bumps
        job = _job(work["id"])
        assert (job.tx_hash, job.replacements, job.status) == (last, MAX_REPLACEMENTS, "submitted")
        assert observability.CHAIN_TX_STUCK._value.get() == stuck_before + 1  # reported once
        held = rpc("eth_getTransactionByHash", last)
        assert held["nonce"] == old["nonce"]
        fee = int(old["maxFeePerGas"], 16)
        for _ in range(MAX_REPLACEMENTS):
            fee = bumped(fee)
        assert int(held["maxFeePerGas"], 16) <= max(fee, 4 * int(old["maxFeePerGas"], 16))
        rpc("evm_mine")
    finally:
        rpc("evm_setAutomine", True)
    api.wait_for_status(work["id"], "minted", timeout=30)
    assert _job(work["id"]).tx_hash == last and _job(work["id"]).status == "confirmed"


@pytest.mark.ipfs
def test_a_replacements_hash_is_written_before_it_is_sent(make_client, rpc, anvil):
    """The replacement's hash is on the job when the node first hears of it (write-ahead); a refused send puts the
    old hash back, and the next try goes through."""
    from marketplace.core.exceptions import ChainUnavailable
    from tests.conftest import Api

    client = make_client(worker_stale_submit_s=1.0)
    services = client.app.state.services
    services.worker.receipt_timeout_s = 0.3
    chain = services.worker.chain
    api = Api(client)
    creator = api.register()
    work = api.upload(creator).json()
    seen: list[tuple[str, str | None]] = []  # (hash sent, hash on the job at that moment)
    original_send = chain.send

    def send(prepared, **kwargs):
        job = _job(work["id"])
        if job is not None and job.tx_hash and job.status == "submitted" and job.nonce == prepared.nonce:
            seen.append((prepared.tx_hash, job.tx_hash))
            if len(seen) == 2:  # the first replacement: the node refuses it
                raise ChainUnavailable("node unreachable (test)")
        return original_send(prepared, **kwargs)

    chain.send = send
    rpc("evm_setAutomine", False)
    try:
        assert client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
        _wait(lambda: len(seen) >= 2)
        first = seen[0][0]
        assert seen[1][0] != first
        assert _wait(lambda: _job(work["id"]).tx_hash == first)  # refused: the old hash is back (stale is 1 s)
        _wait(lambda: len(seen) >= 3)
        assert all(sent == on_job for sent, on_job in seen)  # written ahead, every time
        assert seen[2][0] != first  # (the same signed replacement as the refused one: same nonce and fees)
        rpc("evm_mine")
    finally:
        rpc("evm_setAutomine", True)
        chain.send = original_send
    api.wait_for_status(work["id"], "minted", timeout=30)
    job = _job(work["id"])
    assert job.status == "confirmed" and job.tx_hash != first


def test_production_settings_need_a_fee_cap():
    values = dict(_env_file=None, env="production", database_url="postgresql://db/x",
                  contract_address="0x" + "11" * 20, minter_private_key="0x" + "22" * 32,
                  wallet_secret="w" * 40, auth_secret="a" * 40, stripe_api_key="sk_test_x",
                  stripe_webhook_secret="whsec_x", metrics_token="m" * 32)
    with pytest.raises(ValueError, match="MAX_FEE_PER_GAS_GWEI"):
        Settings(**values)
    assert Settings(**values, max_fee_per_gas_gwei=50).max_fee_per_gas_wei == 50 * GWEI
