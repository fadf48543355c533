"""work cover: the cover image of an audio or video work

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Plain ADD COLUMN (no batch): on SQLite a batch migration recreates `work`, which drops the full-text triggers of
0006.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('work', sa.Column('cover_cid', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    op.add_column('work', sa.Column('cover_mime', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    op.create_index(op.f('ix_work_cover_cid'), 'work', ['cover_cid'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_work_cover_cid'), table_name='work')
    op.drop_column('work', 'cover_mime')
    op.drop_column('work', 'cover_cid')
