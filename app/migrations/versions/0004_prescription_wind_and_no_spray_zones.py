"""prescription wind and no-spray zones

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 02:20:35.067256
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wind_from_deg', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('no_spray', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.drop_column('no_spray')
        batch_op.drop_column('wind_from_deg')

