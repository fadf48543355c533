"""Every table, imported in one place for Alembic and create_all."""

from marketplace.accounts.models import Account, AccountLink, RevokedToken
from marketplace.calls.models import Call, CallDiscipline, Proposal, TeamMember
from marketplace.catalog.models import Work, WorkCollaborator
from marketplace.chainwatch.models import ChainCheckpoint
from marketplace.mail.models import MailOutbox, Notice
from marketplace.minting.models import MintJob
from marketplace.payments.models import LedgerEntry, Purchase, StripeEvent

__all__ = ["Account", "AccountLink", "MailOutbox", "Notice", "Call", "CallDiscipline", "ChainCheckpoint", "LedgerEntry", "MintJob", "Proposal", "Purchase",
           "RevokedToken", "StripeEvent", "TeamMember", "Work", "WorkCollaborator"]
