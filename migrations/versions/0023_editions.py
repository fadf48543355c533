"""editions: a work's edition size and counters, a purchase's edition number

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

Existing works are unique (edition_size 1, their counters 0: a unique work derives them from its sale status).
The one-active-purchase-per-work index now covers unique works only (edition_number NULL); a work of several
editions holds one active purchase per (work, edition number).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0023'
down_revision: Union[str, None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ACTIVE = "status IN ('pending', 'paid', 'delivered')"


def _index(name: str, columns: list[str], where: str) -> None:
    op.create_index(name, 'purchase', columns, unique=True, sqlite_where=sa.text(where),
                    postgresql_where=sa.text(where))


def upgrade() -> None:
    with op.batch_alter_table('work') as batch:
        batch.add_column(sa.Column('edition_size', sa.Integer(), nullable=False, server_default='1'))
        batch.add_column(sa.Column('editions_sold', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('editions_reserved', sa.Integer(), nullable=False, server_default='0'))
    op.drop_index('uq_purchase_active_work', table_name='purchase')
    with op.batch_alter_table('purchase') as batch:
        batch.add_column(sa.Column('edition_number', sa.Integer(), nullable=True))
    _index('uq_purchase_active_work', ['work_id'], ACTIVE + " AND edition_number IS NULL")
    _index('uq_purchase_active_edition', ['work_id', 'edition_number'], ACTIVE + " AND edition_number IS NOT NULL")


def downgrade() -> None:
    op.execute("DELETE FROM payout WHERE purchase_id IN (SELECT id FROM purchase WHERE edition_number IS NOT NULL)")
    op.execute("DELETE FROM ledger_entry WHERE purchase_id IN (SELECT id FROM purchase WHERE edition_number IS NOT NULL)")
    op.execute("DELETE FROM stripe_event WHERE purchase_id IN (SELECT id FROM purchase WHERE edition_number IS NOT NULL)")
    op.execute("DELETE FROM purchase WHERE edition_number IS NOT NULL")
    op.drop_index('uq_purchase_active_edition', table_name='purchase')
    op.drop_index('uq_purchase_active_work', table_name='purchase')
    with op.batch_alter_table('purchase') as batch:
        batch.drop_column('edition_number')
    _index('uq_purchase_active_work', ['work_id'], ACTIVE)
    with op.batch_alter_table('work') as batch:
        batch.drop_column('editions_reserved')
        batch.drop_column('editions_sold')
        batch.drop_column('edition_size')
