"""purchase license_accepted_at: when the buyer confirmed having read the work's licence

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

Plain ADD COLUMN, nullable: purchases made before, and API checkouts that do not send `accept_license`, have none.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('purchase', sa.Column('license_accepted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column('purchase', 'license_accepted_at')
