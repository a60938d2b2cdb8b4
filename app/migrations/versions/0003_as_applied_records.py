"""as-applied records

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 02:07:43.619294
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('field_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('rate_value', sa.Float(), nullable=False),
    sa.Column('rate_unit', sa.String(length=32), nullable=False),
    sa.Column('rate_canonical', sa.Float(), nullable=False),
    sa.Column('area_ha', sa.Float(), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['field_id'], ['fields.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_field_id'), ['field_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_product_id'), ['product_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_product_id'))
        batch_op.drop_index(batch_op.f('ix_applications_org_id'))
        batch_op.drop_index(batch_op.f('ix_applications_field_id'))

    op.drop_table('applications')
