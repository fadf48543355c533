"""remote_pin: the pinning service's queue in the database (one row per CID, shared by every process)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0034'
down_revision: Union[str, None] = '0033'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('remote_pin',
    sa.Column('cid', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requestid', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('polls', sa.Integer(), nullable=False),
    sa.Column('not_before', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('claimed_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('cid')
    )
    op.create_index(op.f('ix_remote_pin_state'), 'remote_pin', ['state'], unique=False)
    op.create_index(op.f('ix_remote_pin_not_before'), 'remote_pin', ['not_before'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_remote_pin_not_before'), table_name='remote_pin')
    op.drop_index(op.f('ix_remote_pin_state'), table_name='remote_pin')
    op.drop_table('remote_pin')
