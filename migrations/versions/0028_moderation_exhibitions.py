"""moderation and exhibitions: work.hidden_at / hidden_reason, work_report, moderation_decision, exhibition,
exhibition_work

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04

The work's hidden state is two nullable columns (plain ADD COLUMN: no batch recreation of `work`, whose search
triggers an SQLite batch would drop) and an index on hidden_at.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0028'
down_revision: Union[str, None] = '0027'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('work', sa.Column('hidden_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('work', sa.Column('hidden_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
    op.create_index(op.f('ix_work_hidden_at'), 'work', ['hidden_at'], unique=False)

    op.create_table('work_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('reporter_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['reporter_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['work_id'], ['work.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_work_report_status_created_at', 'work_report', ['status', 'created_at'], unique=False)
    op.create_index(op.f('ix_work_report_reporter_id'), 'work_report', ['reporter_id'], unique=False)
    op.create_index(op.f('ix_work_report_work_id'), 'work_report', ['work_id'], unique=False)

    op.create_table('moderation_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('admin_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('report_ids', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['admin_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['work_id'], ['work.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_moderation_decision_admin_id'), 'moderation_decision', ['admin_id'], unique=False)
    op.create_index(op.f('ix_moderation_decision_created_at'), 'moderation_decision', ['created_at'], unique=False)
    op.create_index(op.f('ix_moderation_decision_work_id'), 'moderation_decision', ['work_id'], unique=False)

    op.create_table('exhibition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('event_kind', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_index('ix_exhibition_dates', 'exhibition', ['starts_on', 'ends_on'], unique=False)
    op.create_index(op.f('ix_exhibition_created_by'), 'exhibition', ['created_by'], unique=False)

    op.create_table('exhibition_work',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exhibition_id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('added_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['exhibition_id'], ['exhibition.id'], ),
    sa.ForeignKeyConstraint(['work_id'], ['work.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('exhibition_id', 'work_id', name='uq_exhibition_work')
    )
    op.create_index(op.f('ix_exhibition_work_exhibition_id'), 'exhibition_work', ['exhibition_id'], unique=False)
    op.create_index(op.f('ix_exhibition_work_work_id'), 'exhibition_work', ['work_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_exhibition_work_work_id'), table_name='exhibition_work')
    op.drop_index(op.f('ix_exhibition_work_exhibition_id'), table_name='exhibition_work')
    op.drop_table('exhibition_work')
    op.drop_index(op.f('ix_exhibition_created_by'), table_name='exhibition')
    op.drop_index('ix_exhibition_dates', table_name='exhibition')
    op.drop_table('exhibition')
    op.drop_index(op.f('ix_moderation_decision_work_id'), table_name='moderation_decision')
    op.drop_index(op.f('ix_moderation_decision_created_at'), table_name='moderation_decision')
    op.drop_index(op.f('ix_moderation_decision_admin_id'), table_name='moderation_decision')
    op.drop_table('moderation_decision')
    op.drop_index(op.f('ix_work_report_work_id'), table_name='work_report')
    op.drop_index(op.f('ix_work_report_reporter_id'), table_name='work_report')
    op.drop_index('ix_work_report_status_created_at', table_name='work_report')
    op.drop_table('work_report')
    op.drop_index(op.f('ix_work_hidden_at'), table_name='work')
    op.drop_column('work', 'hidden_reason')
    op.drop_column('work', 'hidden_at')
