"""organisations: organisation, organisation_member

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04

Studios, hubs, schools, the cluster, companies and associations, and their members (one row per organisation and
account, `member` or `admin`).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0027'
down_revision: Union[str, None] = '0026'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('website', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_slug'), ['slug'], unique=True)

    op.create_table('organisation_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('joined_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'account_id', name='uq_organisation_member')
    )
    with op.batch_alter_table('organisation_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_member_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_member_organisation_id'), ['organisation_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('organisation_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_member_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_member_account_id'))
    op.drop_table('organisation_member')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_slug'))
        batch_op.drop_index(batch_op.f('ix_organisation_kind'))
    op.drop_table('organisation')
