"""1. Gas per mint and per edition minted: CreativeWorks (content-addressed, no URI stored) against a plain OZ
ERC721URIStorage.

Both contracts get the same `ipfs://<raw CIDv1>` token URIs (CreativeWorks gets their digests, the baseline the URI
strings), to fresh recipients and to a recipient that already holds a token. Figures are mean `gasUsed` from the
receipts (whole transaction, 21k intrinsic gas and calldata included); inside a `mintBatch`, gasUsed / batch size.

Editions (goal <= 0.45): a work of 10 numbered editions, each its own token (its metadata names its
`edition_number`, so its digest, its id, is its own), minted to 10 fresh owners with a 500 bps royalty, edition by
edition (10 mint transactions) and in one mintBatch, to a receiver the contract knows (a creator's later work) and to
a new one (a first work: the receiver's one registry slot is paid by its first edition). Context, no goal: the same
10 editions as 10 units of one ERC-1155 id (OZ ERC1155 + ERC2981, bench/BaselineEditions1155.sol, no URI stored).

Deliveries (context, no goal): gas per token moved to a fresh buyer by `transferBatch` (what the delivery worker sends
for several sales of one seller) against one `safeTransferFrom` transaction per token.

Royalty splits (context, no goal): a co-created mint (the createSplit of its creators, then the mint naming the split
as royalty receiver: what the mint worker sends) next to a single-creator mint; a distribution of a split's ETH
(distributeETH) to 2, 5 and 10 recipients, first (fresh credits) and again (credits already held), next to paying
each recipient with a plain ETH transfer; a withdrawal next to one plain transfer.
"""

from __future__ import annotations

import json
from statistics import mean

from web3 import Web3

from benchmarks.common import (
    ADMIN_KEY,
    BenchStack,
    Figure,
    RawSender,
    contract,
    deploy_baseline,
    deploy_creative_works,
    deploy_editions_1155,
)
from marketplace.integrations.chain import client as chain_client
from marketplace.integrations.chain.client import ZERO_ADDRESS
from marketplace.integrations.ipfs.client import raw_cid_digest, raw_cid_of_bytes

SECTION = "gas"
GOAL = "<= 0.6"  # a mint of one work, royalty or not
EDITION_GOAL = "<= 0.45"  # per edition minted, royalty included
EDITIONS = 10
ROYALTY_BPS = 500
SINGLE_GAS = 400_000


class _Uris:
    """Distinct metadata documents -> (uri, digest, token id), the way the service names them."""

    def __init__(self) -> None:
        self.n = 0

    def take(self, count: int) -> list[tuple[str, bytes, int]]:
        out = []
        for _ in range(count):
            self.n += 1
            payload = json.dumps({"name": f"Bench work {self.n}", "description": "Gas benchmark metadata",
                                  "properties": {"work_id": self.n, "royalty_bps": ROYALTY_BPS}},
                                 sort_keys=True, separators=(",", ":")).encode()
            cid = raw_cid_of_bytes(payload)
            digest = raw_cid_digest(cid)
            out.append((f"ipfs://{cid}", digest, int.from_bytes(digest, "big")))
        return out

    def editions(self, count: int) -> list[tuple[str, bytes, int]]:
        """The `count` numbered editions of one new work: one metadata document (and token) per edition."""
        self.n += 1
        out = []
        for number in range(1, count + 1):
            payload = json.dumps({"name": f"Bench work {self.n} ({number}/{count})", "description": "Gas benchmark",
                                  "properties": {"work_id": self.n, "edition_number": number, "edition_count": count,
                                                 "royalty_bps": ROYALTY_BPS}},
                                 sort_keys=True, separators=(",", ":")).encode()
            cid = raw_cid_of_bytes(payload)
            digest = raw_cid_digest(cid)
            out.append((f"ipfs://{cid}", digest, int.from_bytes(digest, "big")))
        return out


def _address(tag: str, i: int) -> str:
    return Web3.to_checksum_address(Web3.keccak(text=f"{tag}-{i}")[12:])


def run(stack: BenchStack, *, quick: bool, log=print) -> tuple[list[Figure], dict]:
    w3 = stack.w3
    per_case = 5 if quick else 20
    batch_size = 50
    cw = contract(w3, deploy_creative_works(stack.rpc_url), "CreativeWorks")
    base = contract(w3, deploy_baseline(stack.rpc_url), "BaselineURIStorage")
    sender = RawSender(w3, ADMIN_KEY)
    uris = _Uris()
    creator = _address("creator", 0)  # royalty receiver
    repeated = _address("repeated", 0)

    def send_all(txs: list[tuple[str, str, int]]) -> list[int]:
        """Send every tx (to, data, gas), then collect the receipts; return gasUsed of each (all must succeed)."""
        sender.refresh_fees()
        hashes = []
        for to, data, gas in txs:
            raw, tx_hash = sender.sign(to, data, gas)
            sender.send(raw)
            hashes.append(tx_hash)
        receipts = sender.receipts(hashes)
        failed = [r["transactionHash"].to_0x_hex() for r in receipts if r["status"] != 1]
        if failed:
            raise RuntimeError(f"mint transactions reverted: {failed[:3]}")
        return [r["gasUsed"] for r in receipts]

    def baseline_mints(items, recipients) -> list[int]:
        return send_all([(base.address, base.encode_abi("mint", args=[to, tid, uri]), SINGLE_GAS)
                         for (uri, _d, tid), to in zip(items, recipients, strict=True)])

    def ours_mints(items, recipients, bps, receiver=creator) -> list[int]:
        receiver = receiver if bps else ZERO_ADDRESS
        return send_all([(cw.address, cw.encode_abi("mint", args=[to, digest, receiver, bps]), SINGLE_GAS)
                         for (_u, digest, _t), to in zip(items, recipients, strict=True)])

    def ours_batch(items, recipients, bps, receiver=creator) -> list[int]:
        receiver = receiver if bps else ZERO_ADDRESS
        requests = [(to, digest, receiver, bps) for (_u, digest, _t), to in zip(items, recipients, strict=True)]
        [gas_used] = send_all([(cw.address, cw.encode_abi("mintBatch", args=[requests]),
                                80_000 + 110_000 * len(requests))])
        return [gas_used / len(requests)]

    # the repeated recipient holds one token on each contract before anything is measured
    warm = uris.take(1)
    baseline_mints(warm, [repeated])
    ours_mints(warm, [repeated], 0)

    cases = [
        # (name, kind, royalty, recipients: "fresh" | "repeated", count)
        ("mint, fresh recipient, no royalty", "single", 0, "fresh", per_case),
        ("mint, repeated recipient, no royalty", "single", 0, "repeated", per_case),
        (f"mint, fresh recipient, royalty {ROYALTY_BPS} bps", "single", ROYALTY_BPS, "fresh", per_case),
        (f"mint, repeated recipient, royalty {ROYALTY_BPS} bps", "single", ROYALTY_BPS, "repeated", per_case),
        (f"mintBatch({batch_size}) per token, fresh, no royalty", "batch", 0, "fresh", batch_size),
        (f"mintBatch({batch_size}) per token, fresh, royalty {ROYALTY_BPS}", "batch", ROYALTY_BPS, "fresh",
         batch_size),
        (f"mintBatch({batch_size}) per token, repeated, royalty {ROYALTY_BPS}", "batch", ROYALTY_BPS, "repeated",
         batch_size),
    ]
    figures: list[Figure] = []
    details: dict = {"contracts": {"CreativeWorks": cw.address, "BaselineURIStorage": base.address},
                     "mints_per_single_case": per_case, "batch_size": batch_size, "cases": {}}
    fresh_n = 0
    for name, kind, bps, who, count in cases:
        items = uris.take(count)
        if who == "fresh":
            recipients = [_address("fresh", fresh_n + i) for i in range(count)]
            fresh_n += count
        else:
            recipients = [repeated] * count
        base_gas = baseline_mints(items, recipients)  # the same URIs, one plain mint each
        ours_gas = ours_mints(items, recipients, bps) if kind == "single" else ours_batch(items, recipients, bps)
        fig = Figure(SECTION, name, ours=mean(ours_gas), bare=mean(base_gas), unit="gas", goal=GOAL, digits=0,
                     note=f"n={count}")
        figures.append(fig)
        details["cases"][name] = {"ours_gas": ours_gas, "baseline_gas": base_gas, "royalty_bps": bps,
                                  "recipients": who, "kind": kind}
        log(f"  {name}: ours {fig.ours:,.0f} gas, baseline {fig.bare:,.0f} gas, ratio {fig.ratio:.3f}")

    figures += _editions(stack, sender, uris, send_all, baseline_mints, ours_mints, ours_batch, details, log)

    # deliveries: tokens held by the sender (as a custody wallet holds them), moved to fresh buyers
    per_transfer_case = per_case
    held = uris.take(per_transfer_case + 10 + batch_size)
    me = sender.address
    send_all([(cw.address, cw.encode_abi("mintBatch", args=[[(me, d, ZERO_ADDRESS, 0) for _u, d, _t in held]]),
               80_000 + 110_000 * len(held))])
    tokens = [t for _u, _d, t in held]
    singles = send_all([(cw.address, cw.encode_abi("safeTransferFrom", args=[me, _address("buyer", i), t]), 120_000)
                        for i, t in enumerate(tokens[:per_transfer_case])])
    start = per_transfer_case
    for size in (10, batch_size):
        batch = tokens[start:start + size]
        buyers = [_address("buyer", start + i) for i in range(size)]
        [gas_used] = send_all([(cw.address, cw.encode_abi("transferBatch", args=[[me] * size, buyers, batch]),
                                60_000 + 70_000 * size)])
        start += size
        name = f"delivery: transferBatch({size}) per token vs safeTransferFrom tx, fresh buyers"
        fig = Figure(SECTION, name, ours=gas_used / size, bare=mean(singles), unit="gas", digits=0,
                     note=f"baseline n={per_transfer_case}")
        figures.append(fig)
        details["cases"][name] = {"ours_gas_per_token": gas_used / size, "single_transfer_gas": singles,
                                  "kind": "transfer"}
        log(f"  {name}: ours {fig.ours:,.0f} gas, single transfer {fig.bare:,.0f} gas, ratio {fig.ratio:.3f}")

    figures += _splits(stack, sender, cw, uris, per_case, details, log)

    # sanity: the two contracts name the same metadata for the same token
    uri, _digest, token_id = items[0]
    ours_uri = cw.functions.tokenURI(token_id).call()
    base_uri = base.functions.tokenURI(token_id).call()
    details["token_uri_check"] = {"token_id": hex(token_id), "expected": uri, "creative_works": ours_uri,
                                  "baseline": base_uri, "match": ours_uri == base_uri == uri}
    if not details["token_uri_check"]["match"]:
        log(f"  WARNING: tokenURI differs: CreativeWorks {ours_uri!r}, baseline {base_uri!r}, expected {uri!r}")
    return figures, details


def _editions(stack: BenchStack, sender: RawSender, uris: _Uris, send_all, baseline_mints, ours_mints, ours_batch,
              details: dict, log) -> list[Figure]:
    """The per-edition figures (see the module docstring), to owners no other case uses."""
    multi = contract(stack.w3, deploy_editions_1155(stack.rpc_url), "BaselineEditions1155")
    sender.nonce = stack.w3.eth.get_transaction_count(sender.address, "pending")
    known = _address("creator", 0)  # registered by the royalty cases above
    cases = [
        # (name, kind, receiver)
        (f"editions: a {EDITIONS}-edition work, edition by edition ({EDITIONS} mint txs), known receiver", "single",
         known),
        (f"editions: a {EDITIONS}-edition work in one mintBatch, known receiver", "batch", known),
        (f"editions: a {EDITIONS}-edition work, edition by edition, new receiver (its first work)", "single",
         _address("new-creator", 0)),
        (f"editions: a {EDITIONS}-edition work in one mintBatch, new receiver (its first work)", "batch",
         _address("new-creator", 1)),
    ]
    figures: list[Figure] = []
    fresh_n = 0
    for name, kind, receiver in cases:
        items = uris.editions(EDITIONS)
        recipients = [_address("edition-owner", fresh_n + i) for i in range(EDITIONS)]
        fresh_n += EDITIONS
        base_gas = baseline_mints(items, recipients)
        mint = ours_mints if kind == "single" else ours_batch
        ours_gas = mint(items, recipients, ROYALTY_BPS, receiver=receiver)
        per_edition = sum(ours_gas) / EDITIONS if kind == "single" else ours_gas[0]
        fig = Figure(SECTION, name + f", fresh owners, royalty {ROYALTY_BPS} bps", ours=per_edition,
                     bare=mean(base_gas), unit="gas", goal=EDITION_GOAL, digits=0, note="per edition")
        figures.append(fig)
        details["cases"][fig.name] = {"ours_gas": ours_gas, "baseline_gas": base_gas, "royalty_bps": ROYALTY_BPS,
                                      "recipients": "fresh", "kind": f"editions-{kind}", "receiver": receiver}
    # context: the same editions as units of one ERC-1155 id
    work_id = uris.editions(1)[0][2]
    recipients = [_address("edition-owner", fresh_n + i) for i in range(EDITIONS)]
    multi_gas = send_all([(multi.address, multi.encode_abi("mint", args=[to, work_id, _address("new-creator", 2),
                                                                         ROYALTY_BPS]), SINGLE_GAS)
                          for to in recipients])
    base_gas = details["cases"][figures[0].name]["baseline_gas"]
    fig = Figure(SECTION, f"context: ERC-1155, {EDITIONS} units of one id, edition by edition, fresh owners, royalty "
                 f"{ROYALTY_BPS} bps (set by the first)", ours=mean(multi_gas), bare=mean(base_gas), unit="gas",
                 digits=0, note="per edition; no URI stored")
    figures.append(fig)
    details["cases"][fig.name] = {"erc1155_gas": multi_gas, "baseline_gas": base_gas, "kind": "erc1155"}
    for fig in figures:
        log(f"  {fig.name}: ours {fig.ours:,.0f} gas, baseline {fig.bare:,.0f} gas, ratio {fig.ratio:.3f}")
    return figures


def _split_of(tag: str, count: int) -> list[tuple[str, int]]:
    """`count` fresh recipients with equal shares (the remainder on the first), as (address, bps)."""
    shares = [10_000 // count] * count
    shares[0] += 10_000 % count
    return [(_address(tag, i), share) for i, share in enumerate(shares)]


def _splits(stack: BenchStack, sender: RawSender, cw, uris: _Uris, per_case: int, details: dict,
            log) -> list[Figure]:
    """The royalty-split figures (see the module docstring)."""
    w3 = stack.w3
    splits = contract(w3, chain_client.deploy_splits(rpc_url=stack.rpc_url, deployer_key=ADMIN_KEY), "Splits")
    sender.nonce = w3.eth.get_transaction_count(sender.address, "pending")
    sender.refresh_fees()

    def gas_of(to: str, data: str, gas: int, value: int = 0) -> int:
        return sender.transact(to, data, gas, value)["gasUsed"]

    def split_call(name: str, pairs: list[tuple[str, int]], gas: int) -> int:
        accounts, shares = chain_client.split_recipients(pairs)
        return gas_of(splits.address, splits.encode_abi(name, args=[accounts, shares]), gas)

    def mint(receiver: str, i: int) -> int:
        [(_u, digest, _t)] = uris.take(1)
        return gas_of(cw.address, cw.encode_abi("mint", args=[_address("co-owner", i), digest, receiver, ROYALTY_BPS]),
                      SINGLE_GAS)

    figures: list[Figure] = []
    single = [mint(_address("solo", i), i) for i in range(per_case)]
    for creators in (3, 10):
        created, minted = [], []
        for i in range(per_case):
            pairs = _split_of(f"co-{creators}-{i}", creators)
            created.append(split_call("createSplit", pairs, chain_client.gas_for(chain_client.CREATE_SPLIT_GAS,
                                                                                creators)))
            minted.append(mint(chain_client.predict_split_address(splits.address, pairs), creators * 1000 + i))
        name = f"co-created mint ({creators} creators): createSplit + mint, royalty {ROYALTY_BPS} bps"
        total = [c + m for c, m in zip(created, minted, strict=True)]
        figures.append(Figure(SECTION, name, ours=mean(total), bare=mean(single), unit="gas", digits=0,
                              note=f"n={per_case}; bare = single-creator mint; createSplit {mean(created):,.0f}"))
        details["cases"][name] = {"create_split_gas": created, "mint_gas": minted, "single_creator_mint_gas": single}
    for recipients in (2, 5, 10):
        pairs = _split_of(f"payee-{recipients}", recipients)
        split_call("createSplit", pairs, chain_client.gas_for(chain_client.CREATE_SPLIT_GAS, recipients))
        wallet = chain_client.predict_split_address(splits.address, pairs)
        gas = chain_client.gas_for(chain_client.DISTRIBUTE_GAS, recipients)
        runs = {}
        for run_name in ("first", "again"):
            gas_of(wallet, "0x", 30_000, value=10**18 + 7)  # a royalty paid with a plain transfer
            runs[run_name] = split_call("distributeETH", pairs, gas)
        # the push alternative: each recipient paid by its own plain transfer (their accounts exist now)
        plain = 21_000 * recipients
        for run_name, used in runs.items():
            name = f"royalty distribution to {recipients} recipients ({run_name})"
            figures.append(Figure(SECTION, name, ours=used, bare=plain, unit="gas", digits=0,
                                  note=f"bare = {recipients} plain ETH transfers"))
            details["cases"][name] = {"distribute_gas": used, "plain_transfers_gas": plain}
        if recipients == 2:
            withdraw = gas_of(splits.address, splits.encode_abi("withdraw", args=[pairs[0][0]]),
                              chain_client.WITHDRAW_GAS)
            figures.append(Figure(SECTION, "withdraw (one recipient, all it is owed)", ours=withdraw, bare=21_000,
                                  unit="gas", digits=0, note="bare = one plain ETH transfer"))
            details["cases"]["withdraw"] = {"gas": withdraw}
    for fig in figures:
        log(f"  {fig.name}: ours {fig.ours:,.0f} gas, bare {fig.bare:,.0f} gas, ratio {fig.ratio:.3f}")
    return figures
