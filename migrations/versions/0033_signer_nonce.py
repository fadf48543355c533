"""signer_nonce: each signer key's next nonce, shared by the processes of one PostgreSQL database

Revision ID: 0033
Revises: 0030
Create Date: 2026-12-07
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0033'
down_revision: Union[str, None] = '0030'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'signer_nonce',
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column('next_nonce', sa.BigInteger(), nullable=True),
        sa.Column('free_nonces', sa.String(length=2000), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('address'),
    )


def downgrade() -> None:
    op.drop_table('signer_nonce')
