"""payouts: payout_account (Stripe connected accounts), payout (one per creator ledger entry), purchase charge id

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

New tables and a nullable column: nothing to backfill (sales before this are paid out as they are enqueued).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0021'
down_revision: Union[str, None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('purchase', sa.Column('stripe_charge_id', sqlmodel.sql.sqltypes.AutoString(length=255),
                                        nullable=True))
    op.create_table(
        'payout_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('stripe_account_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('details_submitted', sa.Boolean(), nullable=False),
        sa.Column('payouts_enabled', sa.Boolean(), nullable=False),
        sa.Column('requirements_due', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('stripe_updated_at', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id'),
        sa.UniqueConstraint('stripe_account_id'),
    )
    op.create_table(
        'payout',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
        sa.Column('purchase_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('stripe_cents', sa.Integer(), nullable=True),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('stripe_transfer_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column('stripe_reversal_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('claimed_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('settled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
        sa.ForeignKeyConstraint(['purchase_id'], ['purchase.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ledger_entry_id'),
    )
    op.create_index(op.f('ix_payout_account_id'), 'payout', ['account_id'], unique=False)
    op.create_index(op.f('ix_payout_purchase_id'), 'payout', ['purchase_id'], unique=False)
    op.create_index(op.f('ix_payout_status'), 'payout', ['status'], unique=False)
    op.create_index('uq_payout_purchase_account_kind', 'payout', ['purchase_id', 'account_id', 'kind'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_payout_purchase_account_kind', table_name='payout')
    op.drop_index(op.f('ix_payout_status'), table_name='payout')
    op.drop_index(op.f('ix_payout_purchase_id'), table_name='payout')
    op.drop_index(op.f('ix_payout_account_id'), table_name='payout')
    op.drop_table('payout')
    op.drop_table('payout_account')
    op.drop_column('purchase', 'stripe_charge_id')
