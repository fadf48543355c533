"""account profiles (bio, location, links, avatar, disciplines and skills) and account deletion

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-03

Two new tables, `account_profile` and `profile_tag`, and `account.deleted_at` (nullable: plain ADD COLUMN).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0020'
down_revision: Union[str, None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('account', sa.Column('deleted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        'account_profile',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('bio', sa.Text(), nullable=False),
        sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('links', sa.JSON(), nullable=False),
        sa.Column('avatar_cid', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.PrimaryKeyConstraint('account_id'),
    )
    op.create_index(op.f('ix_account_profile_avatar_cid'), 'account_profile', ['avatar_cid'], unique=False)
    op.create_table(
        'profile_tag',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.PrimaryKeyConstraint('account_id', 'kind', 'value'),
    )
    op.create_index(op.f('ix_profile_tag_value'), 'profile_tag', ['value'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_profile_tag_value'), table_name='profile_tag')
    op.drop_table('profile_tag')
    op.drop_index(op.f('ix_account_profile_avatar_cid'), table_name='account_profile')
    op.drop_table('account_profile')
    op.drop_column('account', 'deleted_at')
