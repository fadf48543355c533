"""own wallets: siwe_nonce, linked_wallet (the single account.linked_address moved in), token_withdrawal

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07

account.linked_address stays (the first linked wallet, kept for compatibility); each non-empty one becomes a
linked_wallet row `via` "legacy".
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0029'
down_revision: Union[str, None] = '0028'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('siwe_nonce',
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('nonce')
    )
    op.create_index(op.f('ix_siwe_nonce_account_id'), 'siwe_nonce', ['account_id'], unique=False)
    op.create_index(op.f('ix_siwe_nonce_expires_at'), 'siwe_nonce', ['expires_at'], unique=False)

    op.create_table('linked_wallet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('linked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('address')
    )
    op.create_index(op.f('ix_linked_wallet_account_id'), 'linked_wallet', ['account_id'], unique=False)
    # the one linked address of before: the first linked wallet (an address two accounts named: the older one's)
    op.execute("INSERT INTO linked_wallet (account_id, address, via, linked_at) "
               "SELECT a.id, a.linked_address, 'legacy', a.created_at FROM account a "
               "WHERE a.linked_address IS NOT NULL AND a.linked_address <> '' AND a.id = "
               "(SELECT min(b.id) FROM account b WHERE b.linked_address = a.linked_address)")

    op.create_table('token_withdrawal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('token_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('from_address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('to_address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('tx_hash', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
    sa.Column('tx_nonce', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('claimed_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_token_withdrawal_account_id'), 'token_withdrawal', ['account_id'], unique=False)
    op.create_index(op.f('ix_token_withdrawal_status'), 'token_withdrawal', ['status'], unique=False)
    op.create_index(op.f('ix_token_withdrawal_token_id'), 'token_withdrawal', ['token_id'], unique=False)
    op.create_index('uq_token_withdrawal_pending', 'token_withdrawal', ['token_id'], unique=True,
                    sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index('uq_token_withdrawal_pending', table_name='token_withdrawal')
    op.drop_index(op.f('ix_token_withdrawal_token_id'), table_name='token_withdrawal')
    op.drop_index(op.f('ix_token_withdrawal_status'), table_name='token_withdrawal')
    op.drop_index(op.f('ix_token_withdrawal_account_id'), table_name='token_withdrawal')
    op.drop_table('token_withdrawal')
    op.drop_index(op.f('ix_linked_wallet_account_id'), table_name='linked_wallet')
    op.drop_table('linked_wallet')
    op.drop_index(op.f('ix_siwe_nonce_expires_at'), table_name='siwe_nonce')
    op.drop_index(op.f('ix_siwe_nonce_account_id'), table_name='siwe_nonce')
    op.drop_table('siwe_nonce')
