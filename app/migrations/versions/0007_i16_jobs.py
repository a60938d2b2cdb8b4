"""jobs: heavy work off the request path, with a transactional outbox

Revision ID: 0007_i16_jobs
Revises: 0007_i15_field_farm_customer
Create Date: 2026-12-01 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_i16_jobs'
down_revision = '0007_i15_field_farm_customer'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'jobs',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('progress_pct', sa.Integer(), nullable=False),
        sa.Column('request', sa.JSON(), nullable=False),
        sa.Column('result_id', sa.Integer(), nullable=True),
        sa.Column('result_url', sa.String(length=200), nullable=True),
        sa.Column('error', sa.JSON(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('worker', sa.String(length=100), nullable=True),
        sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_jobs_org_id', 'jobs', ['org_id'])
    op.create_index('ix_jobs_state', 'jobs', ['state'])
    op.create_index('ix_jobs_dispatched_at', 'jobs', ['dispatched_at'])


def downgrade() -> None:
    op.drop_index('ix_jobs_dispatched_at', table_name='jobs')
    op.drop_index('ix_jobs_state', table_name='jobs')
    op.drop_index('ix_jobs_org_id', table_name='jobs')
    op.drop_table('jobs')
