"""work_collaborator: the creators of a co-created work, their shares, roles and answers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

A new table only (`work` is not altered: on SQLite a batch migration would recreate it and drop the full-text
triggers of 0006). Works without rows stay their uploader's alone.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'work_collaborator',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('work_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('share_bps', sa.Integer(), nullable=False),
        sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('invited_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('responded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.ForeignKeyConstraint(['work_id'], ['work.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('work_id', 'account_id', name='uq_work_collaborator_work_account'),
    )
    op.create_index(op.f('ix_work_collaborator_account_id'), 'work_collaborator', ['account_id'], unique=False)
    op.create_index(op.f('ix_work_collaborator_work_id'), 'work_collaborator', ['work_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_work_collaborator_work_id'), table_name='work_collaborator')
    op.drop_index(op.f('ix_work_collaborator_account_id'), table_name='work_collaborator')
    op.drop_table('work_collaborator')
