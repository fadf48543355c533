"""open calls: calls, their disciplines, team proposals and members; a purchase pays a work or a call's budget

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

New tables `open_call`, `call_discipline`, `call_proposal`, `call_team_member` (owned by marketplace.calls).
`purchase` gets `call_id` (a call's budget; exactly one of `work_id` and `call_id` is set, a check constraint) with
a partial unique index like the work's (one active purchase per call), and `work_id` and `wallet_address` become
nullable; `ledger_entry.work_id` too (a call's credits have no work). SQLite recreates `purchase` and
`ledger_entry` (batch mode; neither has triggers): their partial and expression indexes, which SQLite's reflection
does not carry over, are dropped before and created again after.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ACTIVE = sa.text("status IN ('pending', 'paid', 'delivered')")


def _active_index(name: str, column: str) -> None:
    op.create_index(name, 'purchase', [column], unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def _ledger_index() -> None:
    op.create_index('uq_ledger_purchase_type_account', 'ledger_entry',
                    ['purchase_id', 'entry_type', sa.text('coalesce(account_id, 0)')], unique=True)


def upgrade() -> None:
    op.create_table(
        'open_call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('caller_id', sa.Integer(), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('brief', sa.Text(), nullable=False),
        sa.Column('budget_cents', sa.Integer(), nullable=False),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('deadline', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('awarded_proposal_id', sa.Integer(), nullable=True),
        sa.Column('work_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('awarded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('paid_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('delivered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['caller_id'], ['account.id']),
        sa.ForeignKeyConstraint(['work_id'], ['work.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('caller_id', 'created_at', 'deadline', 'status'):
        op.create_index(f'ix_open_call_{column}', 'open_call', [column])

    op.create_table(
        'call_discipline',
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('discipline', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['open_call.id']),
        sa.PrimaryKeyConstraint('call_id', 'discipline'),
    )
    op.create_index('ix_call_discipline_discipline', 'call_discipline', ['discipline'])

    op.create_table(
        'call_proposal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('pitch', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['account.id']),
        sa.ForeignKeyConstraint(['call_id'], ['open_call.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('author_id', 'call_id', 'status'):
        op.create_index(f'ix_call_proposal_{column}', 'call_proposal', [column])

    op.create_table(
        'call_team_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('share_bps', sa.Integer(), nullable=False),
        sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('responded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.ForeignKeyConstraint(['proposal_id'], ['call_proposal.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('proposal_id', 'account_id', name='uq_call_team_member'),
    )
    op.create_index('ix_call_team_member_account_status', 'call_team_member', ['account_id', 'status'])
    op.create_index('ix_call_team_member_proposal_id', 'call_team_member', ['proposal_id'])

    op.drop_index('uq_ledger_purchase_type_account', table_name='ledger_entry')
    with op.batch_alter_table('ledger_entry') as batch:
        batch.alter_column('work_id', existing_type=sa.Integer(), nullable=True)
    _ledger_index()

    op.drop_index('uq_purchase_active_work', table_name='purchase')
    with op.batch_alter_table('purchase') as batch:
        batch.add_column(sa.Column('call_id', sa.Integer(), nullable=True))
        batch.alter_column('work_id', existing_type=sa.Integer(), nullable=True)
        batch.alter_column('wallet_address', existing_type=sa.String(length=42), nullable=True)
        batch.create_foreign_key('fk_purchase_call_id_open_call', 'open_call', ['call_id'], ['id'])
        batch.create_check_constraint('ck_purchase_work_or_call', '(work_id IS NULL) <> (call_id IS NULL)')
        batch.create_index('ix_purchase_call_id', ['call_id'])
    _active_index('uq_purchase_active_work', 'work_id')
    _active_index('uq_purchase_active_call', 'call_id')


def downgrade() -> None:
    op.execute("DELETE FROM ledger_entry WHERE purchase_id IN (SELECT id FROM purchase WHERE call_id IS NOT NULL)")
    op.execute("DELETE FROM stripe_event WHERE purchase_id IN (SELECT id FROM purchase WHERE call_id IS NOT NULL)")
    op.execute("DELETE FROM purchase WHERE call_id IS NOT NULL")
    op.drop_index('uq_purchase_active_call', table_name='purchase')
    op.drop_index('uq_purchase_active_work', table_name='purchase')
    with op.batch_alter_table('purchase') as batch:
        batch.drop_index('ix_purchase_call_id')
        batch.drop_constraint('ck_purchase_work_or_call', type_='check')
        batch.drop_constraint('fk_purchase_call_id_open_call', type_='foreignkey')
        batch.alter_column('wallet_address', existing_type=sa.String(length=42), nullable=False)
        batch.alter_column('work_id', existing_type=sa.Integer(), nullable=False)
        batch.drop_column('call_id')
    _active_index('uq_purchase_active_work', 'work_id')

    op.drop_index('uq_ledger_purchase_type_account', table_name='ledger_entry')
    with op.batch_alter_table('ledger_entry') as batch:
        batch.alter_column('work_id', existing_type=sa.Integer(), nullable=False)
    _ledger_index()

    for table in ('call_team_member', 'call_proposal', 'call_discipline', 'open_call'):
        op.drop_table(table)
