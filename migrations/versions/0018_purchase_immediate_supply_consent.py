"""purchase immediate_supply_consent_at, immediate_supply_consent_text: the buyer's consent to immediate supply

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

Plain ADD COLUMN, nullable: purchases made before (and a call's budget, which asks no such consent) have none.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0018'
down_revision: Union[str, None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('purchase', sa.Column('immediate_supply_consent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('purchase', sa.Column('immediate_supply_consent_text',
                                        sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))


def downgrade() -> None:
    op.drop_column('purchase', 'immediate_supply_consent_text')
    op.drop_column('purchase', 'immediate_supply_consent_at')
