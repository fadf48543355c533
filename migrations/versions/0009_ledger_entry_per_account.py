"""ledger_entry: one entry per purchase, type and account (a sale credits each of its creators)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

The unique constraint on (purchase_id, entry_type) becomes a unique index on (purchase_id, entry_type,
coalesce(account_id, 0)): the platform's rows have no account and stay once per purchase and type. SQLite recreates
the table (batch mode); `ledger_entry` has no triggers.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_entry') as batch:
        batch.drop_constraint('uq_ledger_purchase_type', type_='unique')
    op.create_index('uq_ledger_purchase_type_account', 'ledger_entry',
                    ['purchase_id', 'entry_type', sa.text('coalesce(account_id, 0)')], unique=True)


def downgrade() -> None:
    op.drop_index('uq_ledger_purchase_type_account', table_name='ledger_entry')
    with op.batch_alter_table('ledger_entry') as batch:
        batch.create_unique_constraint('uq_ledger_purchase_type', ['purchase_id', 'entry_type'])
