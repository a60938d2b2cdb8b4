"""field farm and customer (ISOXML CTR/FRM)

Revision ID: 0007_i15_field_farm_customer
Revises: 0006
Create Date: 2026-12-01 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_i15_field_farm_customer'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fields', schema=None) as batch_op:
        batch_op.add_column(sa.Column('farm', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('customer', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fields', schema=None) as batch_op:
        batch_op.drop_column('customer')
        batch_op.drop_column('farm')
