"""The readiness area's tables

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portal_readiness_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result_id', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('bank_version', sa.String(length=32), nullable=False),
    sa.Column('overall', sa.Float(), nullable=False),
    sa.Column('band', sa.String(length=32), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['portal_accounts.id'],
        name=op.f('fk_portal_readiness_assessments_created_by_portal_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['portal_organisations.id'],
        name=op.f('fk_portal_readiness_assessments_organisation_id_portal_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_readiness_assessments'))
    )
    with op.batch_alter_table('portal_readiness_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_readiness_assessments_organisation_id'), ['organisation_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('portal_readiness_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_readiness_assessments_organisation_id'))

    op.drop_table('portal_readiness_assessments')
