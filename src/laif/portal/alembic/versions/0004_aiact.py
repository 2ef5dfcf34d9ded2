"""The aiact area's tables: AI systems with their qualification, control answers, evidence files
and evidence bundles

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portal_ai_systems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('risk_class', sa.String(length=32), nullable=True),
    sa.Column('qualified_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['portal_accounts.id'],
        name=op.f('fk_portal_ai_systems_created_by_portal_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['portal_organisations.id'],
        name=op.f('fk_portal_ai_systems_organisation_id_portal_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_ai_systems'))
    )
    with op.batch_alter_table('portal_ai_systems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_ai_systems_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('portal_ai_bundles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('signer', sa.String(length=64), nullable=False),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('run_ids', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['portal_accounts.id'],
        name=op.f('fk_portal_ai_bundles_created_by_portal_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['portal_organisations.id'],
        name=op.f('fk_portal_ai_bundles_organisation_id_portal_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['system_id'], ['portal_ai_systems.id'],
        name=op.f('fk_portal_ai_bundles_system_id_portal_ai_systems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_ai_bundles'))
    )
    with op.batch_alter_table('portal_ai_bundles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_ai_bundles_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_ai_bundles_system_id'), ['system_id'], unique=False)

    op.create_table('portal_ai_control_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('control_id', sa.String(length=100), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('done', sa.Boolean(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('answered_by', sa.String(length=320), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['system_id'], ['portal_ai_systems.id'],
        name=op.f('fk_portal_ai_control_answers_system_id_portal_ai_systems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_ai_control_answers')),
    sa.UniqueConstraint('system_id', 'control_id', name=op.f('uq_portal_ai_control_answers_system_id'))
    )
    with op.batch_alter_table('portal_ai_control_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_ai_control_answers_system_id'), ['system_id'], unique=False)

    op.create_table('portal_ai_evidence_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('control_id', sa.String(length=100), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['system_id'], ['portal_ai_systems.id'],
        name=op.f('fk_portal_ai_evidence_files_system_id_portal_ai_systems'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['portal_accounts.id'],
        name=op.f('fk_portal_ai_evidence_files_uploaded_by_portal_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_ai_evidence_files')),
    sa.UniqueConstraint('system_id', 'control_id', 'filename', name=op.f('uq_portal_ai_evidence_files_system_id'))
    )
    with op.batch_alter_table('portal_ai_evidence_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_ai_evidence_files_system_id'), ['system_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('portal_ai_evidence_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_ai_evidence_files_system_id'))

    op.drop_table('portal_ai_evidence_files')
    with op.batch_alter_table('portal_ai_control_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_ai_control_answers_system_id'))

    op.drop_table('portal_ai_control_answers')
    with op.batch_alter_table('portal_ai_bundles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_ai_bundles_system_id'))
        batch_op.drop_index(batch_op.f('ix_portal_ai_bundles_organisation_id'))

    op.drop_table('portal_ai_bundles')
    with op.batch_alter_table('portal_ai_systems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_ai_systems_organisation_id'))

    op.drop_table('portal_ai_systems')
