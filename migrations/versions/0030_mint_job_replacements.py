"""mint_job.replacements: fee-bumped re-sends of a job's current transaction (capped by the mint worker)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0030'
down_revision: Union[str, None] = '0029'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('mint_job', sa.Column('replacements', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('mint_job', schema=None) as batch_op:
        batch_op.drop_column('replacements')
