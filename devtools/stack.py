"""The whole local stack for `marketplace dev`: anvil, an IPFS node, the contract, the database, demo data."""

from __future__ import annotations

import json
import logging
import os
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from devtools.anvil import DEV_KEYS, STATE_INTERVAL_S, AnvilNode
from devtools.ipfs_node import IpfsNode
from devtools.mail_sink import MailSink
from devtools.procs import pick_free_port, port_open
from devtools.stripe_double import StripeDouble
from marketplace.integrations.chain import client as chain_client
from marketplace.payments.webhooks import HANDLED_EVENTS
from marketplace.payouts.webhooks import HANDLED_EVENTS as PAYOUT_EVENTS

log = logging.getLogger(__name__)


@dataclass
class LocalStack:
    rpc_url: str
    ipfs_api_addr: str
    contract_address: str
    splits_address: str
    stripe_api_base: str | None
    anvil: AnvilNode
    ipfs: IpfsNode
    stripe: StripeDouble | None
    mail_sink: MailSink | None = None


def _port(preferred: int, what: str) -> int:
    if not port_open(preferred):
        return preferred
    port = pick_free_port()
    print(f"  port {preferred} is busy: {what} uses {port}")
    return port


def _deploy_creative_works(rpc_url: str, deployer_key: str) -> str:
    deployer = chain_client.EthAccount.from_key(deployer_key).address
    return chain_client.deploy(rpc_url=rpc_url, deployer_key=deployer_key, name="Luxembourg Creative Works",
                               symbol="LUXCW", admin=deployer, minter=deployer)


# how `marketplace dev` deploys each contract it runs (artifact name -> deploy(rpc_url, deployer_key))
_DEPLOY = {
    "CreativeWorks": _deploy_creative_works,
    "Splits": lambda rpc_url, deployer_key: chain_client.deploy_splits(rpc_url=rpc_url, deployer_key=deployer_key),
}


def ensure_contract(*, rpc_url: str, deployment_file: Path, deployer_key: str, on_reset=None,
                    artifact: str = "CreativeWorks") -> str:
    """Reuse the recorded deployment if its code is on chain and is the code this checkout builds; otherwise deploy
    (and call on_reset with the reason: the chain was reset, or the contract changed since)."""
    w3 = chain_client.make_web3(rpc_url)
    if deployment_file.exists():
        recorded = json.loads(deployment_file.read_text())
        code = w3.eth.get_code(Web3.to_checksum_address(recorded["contract_address"]))
        expected = bytes.fromhex(chain_client.load_artifact(artifact)["deployedBytecode"].removeprefix("0x"))
        if code and bytes(code) == expected:
            return recorded["contract_address"]
        if on_reset is not None:
            on_reset(f"the {artifact} contract changed since it was deployed" if code else "the chain was reset")
    address = _DEPLOY[artifact](rpc_url, deployer_key)
    deployment_file.parent.mkdir(parents=True, exist_ok=True)
    deployment_file.write_text(json.dumps({"contract_address": address, "chain_id": w3.eth.chain_id}, indent=2))
    return address


def start_local_stack(stack: ExitStack, *, data_dir: Path, app_url: str, webhook_secret: str,
                      rpc_port: int = 8545, ipfs_port: int = 5001, stripe_port: int = 12111,
                      stripe_double: bool = True, mail_sink: bool = True, smtp_port: int = 8025,
                      mail_page_port: int = 8025 + 1) -> LocalStack:
    data_dir.mkdir(parents=True, exist_ok=True)
    rpc_port = _port(rpc_port, "anvil")
    ipfs_port = _port(ipfs_port, "IPFS")
    if stripe_double:
        stripe_port = _port(stripe_port, "the Stripe double")
    print(f"  starting anvil on 127.0.0.1:{rpc_port} (state in {data_dir / 'chain'}, saved every {STATE_INTERVAL_S} s "
          "and on stop)")
    anvil = AnvilNode.start(port=rpc_port, state_file=data_dir / "chain" / "anvil-state.json",
                            log_path=data_dir / "logs" / "anvil.log")
    stack.callback(anvil.stop)
    print(f"  starting IPFS node on 127.0.0.1:{ipfs_port} (repo in {data_dir / 'ipfs'})")
    ipfs = IpfsNode.start(data_dir / "ipfs", ipfs_port)
    stack.callback(ipfs.stop)

    def _reset_db(reason: str):
        db_file = data_dir / "marketplace.core.db"
        print(f"  {reason}: deploying it anew")
        if db_file.exists():
            backup = data_dir / "marketplace.core.db.orphaned"
            shutil.move(db_file, backup)
            for suffix in ("-wal", "-shm"):
                Path(str(db_file) + suffix).unlink(missing_ok=True)
            print(f"  the old database no longer matches the chain and was moved to {backup}")

    deployer_key = os.environ.get("MINTER_PRIVATE_KEY", DEV_KEYS[0])
    address = ensure_contract(rpc_url=anvil.rpc_url, deployment_file=data_dir / "chain" / "deployment.json",
                              deployer_key=deployer_key, on_reset=_reset_db)
    # a new Splits contract means new split addresses: tokens minted before name the old ones
    splits_address = ensure_contract(rpc_url=anvil.rpc_url, deployment_file=data_dir / "chain" / "splits.json",
                                     deployer_key=deployer_key, on_reset=_reset_db, artifact="Splits")
    double = None
    if stripe_double:
        print(f"  starting the Stripe double on 127.0.0.1:{stripe_port} (webhooks to {app_url}/api/stripe/webhook)")
        # like a Stripe webhook endpoint subscribed to the events the app handles
        double = StripeDouble(webhook_url=f"{app_url}/api/stripe/webhook", webhook_secret=webhook_secret,
                              enabled_events=[*HANDLED_EVENTS, *PAYOUT_EVENTS])
        double.start(stripe_port)
        stack.callback(double.stop)
    sink = None
    if mail_sink:
        sink = MailSink(smtp_port=_port(smtp_port, "the mail sink's SMTP"),
                        http_port=_port(mail_page_port, "the mail sink's page")).start()
        stack.callback(sink.close)
        print(f"  starting the mail sink: SMTP on {sink.host}:{sink.smtp_port}, its page at {sink.url}")
    return LocalStack(mail_sink=sink, rpc_url=anvil.rpc_url, ipfs_api_addr=ipfs.api_addr, contract_address=address,
                      splits_address=splits_address, stripe_api_base=double.api_base if double else None, anvil=anvil, ipfs=ipfs, stripe=double)
