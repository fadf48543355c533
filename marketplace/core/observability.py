"""Logs and metrics of a process: structlog's JSON lines (with the context bound to the request or the job), the
Prometheus metrics the code observes, and the secrets no log line may carry.

- Logs: every line, ours (structlog or the stdlib `logging` the modules use) and the libraries', goes through one
  formatter: one JSON object per line with `timestamp`, `level`, `logger`, `event` and whatever context is bound
  (`request_id` by the request middleware, `purchase_id` / `work_id` by the delivery and mint paths) through
  structlog's contextvars. `LOG_FORMAT=console` renders the same events for a terminal.
- Metrics: module-level objects in REGISTRY (prometheus-client). What is read from the tables at scrape time
  (queue depths, failed jobs, the signer's balance) is a collector the app adds next to it (marketplace.operations).
- Secrets: register_secret(value) once (the minter key, ...): a processor replaces it wherever it would appear.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REDACTED = "[redacted]"
_secrets: set[str] = set()
_HANDLER_NAME = "marketplace-structlog"

# --- metrics -----------------------------------------------------------------------------------------------------
REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

HTTP_REQUESTS = Counter("marketplace_http_requests", "HTTP requests answered, by route template and status",
                        ["method", "route", "status"], registry=REGISTRY)
HTTP_LATENCY = Histogram("marketplace_http_request_duration_seconds", "Time to answer an HTTP request",
                         ["method", "route"], registry=REGISTRY)
MINT_LATENCY = Histogram("marketplace_mint_latency_seconds",
                         "From a work's mint request to its mint transaction mined", buckets=_LATENCY_BUCKETS,
                         registry=REGISTRY)
DELIVERY_LATENCY = Histogram("marketplace_delivery_latency_seconds",
                             "From a purchase paid to its token in the buyer's wallet (transfer mined)",
                             buckets=_LATENCY_BUCKETS, registry=REGISTRY)
JOB_FAILURES = Counter("marketplace_job_failures", "Job attempts that failed in this process, by job kind",
                       ["kind"], registry=REGISTRY)
SIGNER_LOW_BALANCE_ALARMS = Counter("marketplace_signer_low_balance_alarms",
                                    "Times the platform signer's balance was found below SIGNER_LOW_BALANCE_WEI",
                                    registry=REGISTRY)
CHAIN_TX_REPLACED = Counter("marketplace_chain_tx_replaced",
                            "Stuck transactions re-sent with the same nonce and bumped fees", registry=REGISTRY)
CHAIN_TX_STUCK = Counter("marketplace_chain_tx_stuck",
                         "Stuck transactions left unbumped after MAX_REPLACEMENTS replacements", registry=REGISTRY)
BUILD_INFO = Gauge("marketplace_build_info", "1, labelled with the running version", ["version"], registry=REGISTRY)


# --- secrets -----------------------------------------------------------------------------------------------------
def register_secret(value: str | None) -> None:
    """A value no log line may show (short values are ignored: they would redact ordinary words)."""
    if value and len(value) >= 8:
        _secrets.add(value)
        if value.startswith("0x"):
            _secrets.add(value[2:])


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact_event(_logger, _name, event: dict[str, Any]) -> dict[str, Any]:
    if not _secrets:
        return event
    return {key: redact(value) if isinstance(value, str) else
            (redact(repr(value)) if not isinstance(value, int | float | bool | type(None)) and
             any(s in repr(value) for s in _secrets) else value)
            for key, value in event.items()}


def _redact_rendered(_logger, _name, rendered: str) -> str:
    return redact(rendered) if _secrets else rendered


# --- logs --------------------------------------------------------------------------------------------------------
def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]


def formatter(fmt: str = "json") -> logging.Formatter:
    """The one formatter of every log line (the app's handler uses it; a test can put it on its own handler)."""
    renderer = (structlog.processors.JSONRenderer(sort_keys=False) if fmt == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, _redact_event, renderer, _redact_rendered],
    )


def configure_logging(*, level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and the stdlib's logging to one stderr handler with formatter(fmt). Idempotent: a second
    call replaces the handler it installed (never another one's: pytest's capture handlers stay)."""
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "urllib3", "web3", "stripe"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True  # the request middleware logs each request, with its id


def get_logger(name: str):
    return structlog.get_logger(name)


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Bind values (purchase_id=..., work_id=...) to every log line of this thread or task for the block."""
    with structlog.contextvars.bound_contextvars(**{k: v for k, v in values.items() if v is not None}):
        yield


def elapsed_s(start: datetime | None, end: datetime) -> float | None:
    """Seconds from start to end (a naive time read back from SQLite is UTC); None without a start."""
    if start is None:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return max(0.0, (end - start).total_seconds())


def bind(**values: Any) -> None:
    structlog.contextvars.bind_contextvars(**values)


def clear_context() -> None:
    structlog.contextvars.clear_contextvars()
