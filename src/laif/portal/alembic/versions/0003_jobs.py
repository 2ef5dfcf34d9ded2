"""The jobs area's tables: systems under test and the job queue

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portal_systems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('secret_name', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['portal_accounts.id'],
        name=op.f('fk_portal_systems_created_by_portal_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['portal_organisations.id'],
        name=op.f('fk_portal_systems_organisation_id_portal_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_systems')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_portal_systems_organisation_id'))
    )
    with op.batch_alter_table('portal_systems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_systems_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('portal_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stage', sa.String(length=64), nullable=False),
    sa.Column('done', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('run_ids', sa.JSON(), nullable=False),
    sa.Column('verdict', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['portal_accounts.id'],
        name=op.f('fk_portal_jobs_created_by_portal_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['portal_organisations.id'],
        name=op.f('fk_portal_jobs_organisation_id_portal_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['system_id'], ['portal_systems.id'],
        name=op.f('fk_portal_jobs_system_id_portal_systems'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_jobs'))
    )
    with op.batch_alter_table('portal_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_jobs_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_jobs_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('portal_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_jobs_status'))
        batch_op.drop_index(batch_op.f('ix_portal_jobs_organisation_id'))

    op.drop_table('portal_jobs')
    with op.batch_alter_table('portal_systems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_systems_organisation_id'))

    op.drop_table('portal_systems')
