"""farmer keys limited to fields

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 02:48:40.148508
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field_ids', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('field_ids')

