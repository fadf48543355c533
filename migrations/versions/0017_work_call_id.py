"""work call_id: the open call a work was delivered for (one work per call)

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-02

Plain ADD COLUMN, nullable (works made before, and works not made for a call, have none), and a unique index.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0017'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('work', sa.Column('call_id', sa.Integer(), nullable=True))
    op.create_index('uq_work_call_id', 'work', ['call_id'], unique=True)
    # calls delivered before this revision: their work names them
    op.execute("UPDATE work SET call_id = (SELECT open_call.id FROM open_call WHERE open_call.work_id = work.id) "
               "WHERE EXISTS (SELECT 1 FROM open_call WHERE open_call.work_id = work.id)")


def downgrade() -> None:
    op.drop_index('uq_work_call_id', table_name='work')
    op.drop_column('work', 'call_id')
