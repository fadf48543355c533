"""resale: listing; purchase.kind, listing_id, seller_id

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04

A collector's token offered again (one active listing per token). A purchase is `primary` (a first sale, every
existing row) or `resale` (it buys a listing: one active purchase per listing). The one-active-purchase-per-work
index covers primary purchases only: a resale of a unique work holds its listing, not the work.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0026'
down_revision: Union[str, None] = '0025'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ACTIVE = "status IN ('pending', 'paid', 'delivered')"


def _index(name: str, columns: list[str], where: str) -> None:
    op.create_index(name, 'purchase', columns, unique=True, sqlite_where=sa.text(where),
                    postgresql_where=sa.text(where))


def upgrade() -> None:
    op.create_table('listing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('seller_address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sold_purchase_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['work_id'], ['work.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_listing_seller_id'), 'listing', ['seller_id'], unique=False)
    op.create_index(op.f('ix_listing_status'), 'listing', ['status'], unique=False)
    op.create_index(op.f('ix_listing_token_id'), 'listing', ['token_id'], unique=False)
    op.create_index(op.f('ix_listing_work_id'), 'listing', ['work_id'], unique=False)
    op.create_index('uq_listing_active_token', 'listing', ['token_id'], unique=True,
                    sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
    op.drop_index('uq_purchase_active_work', table_name='purchase')
    with op.batch_alter_table('purchase') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='primary'))
        batch.add_column(sa.Column('listing_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('seller_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_purchase_listing_id'), ['listing_id'], unique=False)
        batch.create_foreign_key('fk_purchase_listing_id_listing', 'listing', ['listing_id'], ['id'])
        batch.create_foreign_key('fk_purchase_seller_id_account', 'account', ['seller_id'], ['id'])
    _index('uq_purchase_active_work', ['work_id'], ACTIVE + " AND edition_number IS NULL AND kind = 'primary'")
    _index('uq_purchase_active_listing', ['listing_id'], ACTIVE + " AND listing_id IS NOT NULL")


def downgrade() -> None:
    resales = "SELECT id FROM purchase WHERE kind <> 'primary'"
    op.execute(f"DELETE FROM payout WHERE purchase_id IN ({resales})")
    op.execute(f"DELETE FROM ledger_entry WHERE purchase_id IN ({resales})")
    op.execute(f"DELETE FROM stripe_event WHERE purchase_id IN ({resales})")
    op.execute("DELETE FROM purchase WHERE kind <> 'primary'")
    op.drop_index('uq_purchase_active_listing', table_name='purchase')
    op.drop_index('uq_purchase_active_work', table_name='purchase')
    with op.batch_alter_table('purchase') as batch:
        batch.drop_constraint('fk_purchase_seller_id_account', type_='foreignkey')
        batch.drop_constraint('fk_purchase_listing_id_listing', type_='foreignkey')
        batch.drop_index(batch.f('ix_purchase_listing_id'))
        batch.drop_column('seller_id')
        batch.drop_column('listing_id')
        batch.drop_column('kind')
    _index('uq_purchase_active_work', ['work_id'], ACTIVE + " AND edition_number IS NULL")
    op.drop_index('uq_listing_active_token', table_name='listing')
    op.drop_index(op.f('ix_listing_work_id'), table_name='listing')
    op.drop_index(op.f('ix_listing_token_id'), table_name='listing')
    op.drop_index(op.f('ix_listing_status'), table_name='listing')
    op.drop_index(op.f('ix_listing_seller_id'), table_name='listing')
    op.drop_table('listing')
