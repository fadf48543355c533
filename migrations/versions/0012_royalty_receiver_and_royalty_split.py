"""work royalty_receiver and mint_job royalty_split: a co-created work's royalties go to a split of its creators

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Plain ADD COLUMN (no batch): on SQLite a batch migration recreates `work`, which drops the full-text triggers of
0006. Works already minting or minted with a royalty get the receiver their mint job names (one creator's wallet).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('work', sa.Column('royalty_receiver', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True))
    op.add_column('mint_job', sa.Column('royalty_split', sa.Text(), nullable=True))
    op.execute(
        "UPDATE work SET royalty_receiver = (SELECT mint_job.royalty_receiver FROM mint_job "
        "WHERE mint_job.work_id = work.id) WHERE royalty_bps > 0"
    )


def downgrade() -> None:
    op.drop_column('mint_job', 'royalty_split')
    op.drop_column('work', 'royalty_receiver')
