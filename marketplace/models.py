"""Every table, imported in one place for Alembic and create_all."""

from marketplace.accounts.models import (
    Account,
    AccountLink,
    AccountProfile,
    LinkedWallet,
    ProfileTag,
    RevokedToken,
    SiweNonce,
)
from marketplace.calls.models import Call, CallDiscipline, Proposal, TeamMember
from marketplace.catalog.models import Work, WorkCollaborator
from marketplace.chainwatch.models import ChainCheckpoint
from marketplace.core.nonces import SignerNonce
from marketplace.exhibitions.models import Exhibition, ExhibitionWork
from marketplace.indexer.models import ChainEvent, IndexedBlock, IndexerCursor, TokenOwner
from marketplace.integrations.ipfs.pinning import RemotePin
from marketplace.mail.models import MailOutbox, Notice
from marketplace.minting.models import MintJob
from marketplace.moderation.models import ModerationDecision, WorkReport
from marketplace.organisations.models import Organisation, OrganisationMember
from marketplace.payments.models import LedgerEntry, Purchase, StripeEvent, TokenWithdrawal
from marketplace.payouts.models import Payout, PayoutAccount
from marketplace.resale.models import Listing

__all__ = [
    "Account",
    "AccountLink",
    "AccountProfile",
    "Call",
    "CallDiscipline",
    "ChainCheckpoint",
    "ChainEvent",
    "Exhibition",
    "ExhibitionWork",
    "IndexedBlock",
    "IndexerCursor",
    "LedgerEntry",
    "LinkedWallet",
    "Listing",
    "MailOutbox",
    "MintJob",
    "ModerationDecision",
    "Notice",
    "Organisation",
    "OrganisationMember",
    "Payout",
    "PayoutAccount",
    "ProfileTag",
    "Proposal",
    "Purchase",
    "RemotePin",
    "RevokedToken",
    "SignerNonce",
    "SiweNonce",
    "StripeEvent",
    "TeamMember",
    "TokenOwner",
    "TokenWithdrawal",
    "Work",
    "WorkCollaborator",
    "WorkReport",
]
