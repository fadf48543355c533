"""Every table, imported in one place for Alembic and create_all."""

from marketplace.accounts.models import Account, AccountProfile, ProfileTag, RevokedToken
from marketplace.calls.models import Call, CallDiscipline, Proposal, TeamMember
from marketplace.catalog.models import Work, WorkCollaborator
from marketplace.chainwatch.models import ChainCheckpoint
from marketplace.minting.models import MintJob
from marketplace.payments.models import LedgerEntry, Purchase, StripeEvent
from marketplace.payouts.models import Payout, PayoutAccount

__all__ = ["Account", "AccountProfile", "Call", "CallDiscipline", "ChainCheckpoint", "LedgerEntry", "MintJob", "Payout",
           "PayoutAccount", "ProfileTag", "Proposal", "Purchase",
           "RevokedToken", "StripeEvent", "TeamMember", "Work", "WorkCollaborator"]
