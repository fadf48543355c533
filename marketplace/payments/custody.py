"""The creators' custody wallets as the delivery worker uses them: their signers (keys derived from WALLET_SECRET),
their gas money, and their approval of the platform signer as operator (after which the platform moves their
tokens in shared batches)."""

from __future__ import annotations

import logging

from marketplace.accounts import wallets
from marketplace.core.exceptions import MarketplaceError, ServiceUnavailable
from marketplace.integrations.chain.client import ChainClient, Signer

log = logging.getLogger(__name__)


class CustodyWallets:
    def __init__(self, *, chain: ChainClient, wallet_secret: str, gas_topup_wei: int = 10**16,
                 receipt_timeout_s: float = 60.0) -> None:
        self.chain = chain
        self._wallet_secret = wallet_secret
        self.gas_topup_wei = gas_topup_wei
        self.receipt_timeout_s = receipt_timeout_s
        # wei each custody wallet can still spend: its balance when last read, minus the most the transactions
        # sent since can cost (gas limit x fee cap), so never more than it really has; saves a read per batch
        self.gas_budget: dict[str, int] = {}
        self._signers: dict[int, Signer] = {}  # creator id -> custody wallet signer (the key derivation costs)
        self._operator_ok: set[str] = set()  # custody wallets that approved the platform signer as operator
        self._approval_sent: set[str] = set()  # ... and those whose approval is on its way

    def forget_chain(self) -> None:
        """The chain moved under us (a rewind, an outage): balances and approvals read before may be gone."""
        self.gas_budget.clear()
        self._operator_ok.clear()
        self._approval_sent.clear()

    def forget_balance(self, address: str) -> None:
        self.gas_budget.pop(address, None)

    def signer(self, creator_id: int) -> Signer:
        signer = self._signers.get(creator_id)
        if signer is None:
            key = wallets.custodial_signer(self._wallet_secret, creator_id).key
            signer = self._signers[creator_id] = self.chain.signer_for(key)
        return signer

    def operator_may_move(self, custody: str) -> bool:
        """Has this custody wallet approved the platform signer as its operator? (Asked of the chain until yes.)"""
        if custody in self._operator_ok:
            return True
        if self.chain.is_operator(custody, self.chain.signer.address):
            self._operator_ok.add(custody)
            return True
        return False

    def approval_sent(self, custody: str) -> bool:
        return custody in self._approval_sent

    def approve_operator(self, signer: Signer) -> None:
        """Once per custody wallet, right after its own delivery: approve the platform signer as operator, so its
        later sales go in the shared transaction. Best effort: without it the wallet keeps signing its own."""
        if signer.address in self._approval_sent or signer.address in self._operator_ok:
            return
        try:
            self.chain.send(self.chain.prepare_set_operator(signer, self.chain.signer.address), signer=signer)
        except MarketplaceError as exc:
            log.warning("custody wallet %s could not approve the platform operator: %s", signer.address, exc.message)
            return
        self._approval_sent.add(signer.address)

    def ensure_gas(self, address: str, *, gas: int) -> None:
        """The custody wallet holds enough ETH for `gas` at today's fee cap, or gets twice that (at least the
        configured top-up) from the platform signer first. The balance is read only when the budget kept since
        the last read does not cover it."""
        needed = gas * self.chain.fees()["maxFeePerGas"]
        budget = self.gas_budget.get(address)
        if budget is None or budget < needed:
            budget = self.chain.eth_balance(address)
        if budget < needed:
            value = max(self.gas_topup_wei, 2 * needed)
            topup = self.chain.prepare_value_transfer(to=address, value_wei=value)
            self.chain.send(topup)
            receipt = self.chain.wait_for_receipt(topup.tx_hash, timeout_s=self.receipt_timeout_s)
            if receipt is None or receipt.status != 1:
                raise ServiceUnavailable("Could not fund the custody wallet with gas")
            budget += value
        self.gas_budget[address] = budget - needed
