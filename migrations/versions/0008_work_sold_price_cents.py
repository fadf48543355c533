"""work sold_price_cents: what a sold work sold for

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Plain ADD COLUMN (no batch): on SQLite a batch migration recreates `work`, which drops the full-text triggers of
0006. Works sold before it get the amount of their delivered purchase.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('work', sa.Column('sold_price_cents', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE work SET sold_price_cents = (SELECT purchase.amount_cents FROM purchase "
        "WHERE purchase.work_id = work.id AND purchase.status = 'delivered') WHERE sale_status = 'sold'"
    )


def downgrade() -> None:
    op.drop_column('work', 'sold_price_cents')
