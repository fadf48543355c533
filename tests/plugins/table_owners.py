"""One owner per table, checked on every statement the suite runs.

Each table is written only by the domain that owns it (README, "The house"): a listener on every engine looks at
each INSERT / UPDATE / DELETE, finds the product module that issued it (the first frame in `marketplace`, looking
through the database and job helpers, which write on their caller's behalf) and records it when that module is
not one of the table's owners. Any such write fails the test it happened in. Writes made by tests themselves or
by devtools (fixtures fabricating rows) have no product frame and are not counted.
"""

from __future__ import annotations

import re
import sys
import threading

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

OWNERS: dict[str, tuple[str, ...]] = {
    "account": ("marketplace.accounts.service", "marketplace.accounts.lifecycle", "marketplace.accounts.own_wallets"),
    "siwe_nonce": ("marketplace.accounts.own_wallets",),
    "linked_wallet": ("marketplace.accounts.own_wallets", "marketplace.accounts.service"),
    "account_link": ("marketplace.accounts.lifecycle",),
    "mail_outbox": ("marketplace.mail.outbox", "marketplace.mail.worker"),
    "notices": ("marketplace.mail.outbox",),
    "revoked_token": ("marketplace.accounts.service",),
    "account_profile": ("marketplace.accounts.profiles",),
    "profile_tag": ("marketplace.accounts.profiles",),
    "work": ("marketplace.catalog.service",),
    "work_collaborator": ("marketplace.catalog.collaborators",),
    "mint_job": ("marketplace.minting.service", "marketplace.minting.worker"),
    "purchase": ("marketplace.payments.service", "marketplace.payments.checkout", "marketplace.payments.webhooks",
                 "marketplace.payments.delivery"),
    "ledger_entry": ("marketplace.payments.service",),
    "stripe_event": ("marketplace.payments.webhooks",),
    "listing": ("marketplace.resale.service",),
    "token_withdrawal": ("marketplace.payments.withdrawals", "marketplace.payments.delivery"),
    "payout_account": ("marketplace.payouts.service",),
    "payout": ("marketplace.payouts.service", "marketplace.payouts.worker"),
    "chain_checkpoint": ("marketplace.chainwatch.watcher",),
    "indexed_block": ("marketplace.indexer.service",),
    "chain_event": ("marketplace.indexer.service",),
    "token_owner": ("marketplace.indexer.service",),
    "indexer_cursor": ("marketplace.indexer.service",),
    "open_call": ("marketplace.calls.service",),
    "call_discipline": ("marketplace.calls.service",),
    "call_proposal": ("marketplace.calls.service",),
    "call_team_member": ("marketplace.calls.service",),
    "organisation": ("marketplace.organisations.service",),
    "organisation_member": ("marketplace.organisations.service",),
    "work_report": ("marketplace.moderation.service",),
    "moderation_decision": ("marketplace.moderation.service",),
    "exhibition": ("marketplace.exhibitions.service",),
    "exhibition_work": ("marketplace.exhibitions.service",),
    "signer_nonce": ("marketplace.core.nonces",),
    "remote_pin": ("marketplace.integrations.ipfs.pinning",),
}
# modules that write on behalf of their caller (the caller is the writer)
HELPERS = ("marketplace.core.db", "marketplace.jobs.lease")
EXEMPT = ("marketplace.core.migrate",)  # schema and data migrations

_WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_violations: list[str] = []
_lock = threading.Lock()


def _writer() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("marketplace.") and not module.startswith(HELPERS):
            return module
        frame = frame.f_back
    return None


@event.listens_for(Engine, "before_cursor_execute")
def _check_owner(conn, cursor, statement, parameters, context, executemany):
    match = _WRITE.match(statement)
    if match is None:
        return
    table = match.group(1).lower()
    owners = OWNERS.get(table)
    if owners is None:
        return
    writer = _writer()
    if writer is None or writer.startswith(EXEMPT) or writer.startswith(owners):
        return
    with _lock:
        _violations.append(f"{writer} wrote `{table}` ({statement.split()[0]}), owned by {', '.join(owners)}")


def tables_written_by_their_owners() -> list[str]:
    with _lock:
        found, _violations[:] = list(_violations), []
    return found


@pytest.fixture(autouse=True)
def _one_owner_per_table():
    tables_written_by_their_owners()  # what a previous test's threads wrote after it ended is not this test's
    yield
    found = tables_written_by_their_owners()
    assert not found, "tables written outside their owners:\n" + "\n".join(sorted(set(found)))
