"""The chain node's refusals as types, so callers decide on a kind of error rather than on a message.

A node answers a refused transaction with a JSON-RPC error whose message is the only thing that says why (geth,
anvil, reth, erigon and nethermind word them alike; safe-eth-py maps them the same way). `classify` maps the
message to the most specific type; anything unknown stays a plain `ChainTransactionFailed`.
"""

from __future__ import annotations

from marketplace.core.exceptions import ChainTransactionFailed


class NodeRefused(ChainTransactionFailed):
    """The node refused the transaction before it was mined (nothing changed on chain)."""

    code = "chain_transaction_refused"


class NonceTooLow(NodeRefused):
    """The transaction's nonce was used already (another transaction of the signer was mined with it)."""

    code = "nonce_too_low"


class NonceTooHigh(NodeRefused):
    """The transaction's nonce leaves a gap after the signer's last one."""

    code = "nonce_too_high"


class InsufficientFunds(NodeRefused):
    """The signer cannot pay the gas (or the value) of the transaction."""

    code = "insufficient_funds"


class Underpriced(NodeRefused):
    """The fee is below what the node accepts (the base fee, or a replacement's required bump)."""

    code = "underpriced"


class GasLimitTooHigh(NodeRefused):
    """The transaction asks for more gas than a block holds."""

    code = "gas_limit_too_high"


class IntrinsicGasTooLow(NodeRefused):
    """The gas limit is below the transaction's intrinsic cost."""

    code = "intrinsic_gas_too_low"


class ExecutionReverted(NodeRefused):
    """The node simulated the transaction and it reverts."""

    code = "execution_reverted"


# (fragment of the lower-cased node message, type); the first match wins, so specific fragments come first
_PATTERNS: tuple[tuple[str, type[NodeRefused]], ...] = (
    ("nonce too low", NonceTooLow),
    ("nonce has already been used", NonceTooLow),
    ("oldnonce", NonceTooLow),
    ("nonce too high", NonceTooHigh),
    ("insufficient funds", InsufficientFunds),
    ("insufficient balance", InsufficientFunds),
    ("replacement transaction underpriced", Underpriced),
    ("transaction underpriced", Underpriced),
    ("max fee per gas less than block base fee", Underpriced),
    ("fee cap less than block base fee", Underpriced),
    ("feecaptoolow", Underpriced),
    ("exceeds block gas limit", GasLimitTooHigh),
    ("gas limit reached", GasLimitTooHigh),
    ("intrinsic gas too low", IntrinsicGasTooLow),
    ("execution reverted", ExecutionReverted),
)

ALREADY_KNOWN = ("already known", "already imported", "known transaction")


def is_already_known(message: str) -> bool:
    """The node holds this very transaction already: a re-send, not an error."""
    lowered = message.lower()
    return any(fragment in lowered for fragment in ALREADY_KNOWN)


def classify(message: str) -> type[ChainTransactionFailed]:
    lowered = message.lower()
    for fragment, kind in _PATTERNS:
        if fragment in lowered:
            return kind
    return ChainTransactionFailed
