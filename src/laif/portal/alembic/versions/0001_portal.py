"""Portal identity, organisations, audit log and service requests

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-02 01:01:43.054441
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portal_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('oidc_subject', sa.String(length=500), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_portal_accounts_email')),
    sa.UniqueConstraint('oidc_subject', name=op.f('uq_portal_accounts_oidc_subject'))
    )
    op.create_table('portal_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_audit_log'))
    )
    with op.batch_alter_table('portal_audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_audit_log_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_audit_log_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('portal_login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_login_failures'))
    )
    with op.batch_alter_table('portal_login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_login_failures_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_login_failures_email'), ['email'], unique=False)

    op.create_table('portal_organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_organisations')),
    sa.UniqueConstraint('name', name=op.f('uq_portal_organisations_name'))
    )
    op.create_table('portal_access_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['portal_accounts.id'],
        name=op.f('fk_portal_access_tokens_account_id_portal_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['portal_organisations.id'],
        name=op.f('fk_portal_access_tokens_organisation_id_portal_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_access_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_portal_access_tokens_token_hash'))
    )
    with op.batch_alter_table('portal_access_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_access_tokens_account_id'), ['account_id'], unique=False)

    op.create_table('portal_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('invited_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by'], ['portal_accounts.id'],
        name=op.f('fk_portal_invitations_invited_by_portal_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['portal_organisations.id'],
        name=op.f('fk_portal_invitations_organisation_id_portal_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_portal_invitations_token_hash'))
    )
    op.create_table('portal_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['portal_accounts.id'],
        name=op.f('fk_portal_memberships_account_id_portal_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['portal_organisations.id'],
        name=op.f('fk_portal_memberships_organisation_id_portal_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_memberships')),
    sa.UniqueConstraint('account_id', 'organisation_id', 'role', name=op.f('uq_portal_memberships_account_id'))
    )
    with op.batch_alter_table('portal_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_memberships_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_memberships_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('portal_service_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('advisor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['advisor_id'], ['portal_accounts.id'],
        name=op.f('fk_portal_service_requests_advisor_id_portal_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['portal_accounts.id'],
        name=op.f('fk_portal_service_requests_created_by_portal_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['portal_organisations.id'],
        name=op.f('fk_portal_service_requests_organisation_id_portal_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_service_requests'))
    )
    with op.batch_alter_table('portal_service_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_service_requests_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('portal_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['portal_accounts.id'],
        name=op.f('fk_portal_sessions_account_id_portal_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_portal_sessions'))
    )
    op.create_table('portal_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['portal_accounts.id'],
        name=op.f('fk_portal_notifications_account_id_portal_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['portal_service_requests.id'],
        name=op.f('fk_portal_notifications_request_id_portal_service_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_notifications'))
    )
    with op.batch_alter_table('portal_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_notifications_account_id'), ['account_id'], unique=False)

    op.create_table('portal_request_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['portal_accounts.id'],
        name=op.f('fk_portal_request_messages_account_id_portal_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['portal_service_requests.id'],
        name=op.f('fk_portal_request_messages_request_id_portal_service_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_request_messages'))
    )
    with op.batch_alter_table('portal_request_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_request_messages_request_id'), ['request_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('portal_request_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_request_messages_request_id'))

    op.drop_table('portal_request_messages')
    with op.batch_alter_table('portal_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_notifications_account_id'))

    op.drop_table('portal_notifications')
    op.drop_table('portal_sessions')
    with op.batch_alter_table('portal_service_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_service_requests_organisation_id'))

    op.drop_table('portal_service_requests')
    with op.batch_alter_table('portal_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_memberships_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_portal_memberships_account_id'))

    op.drop_table('portal_memberships')
    op.drop_table('portal_invitations')
    with op.batch_alter_table('portal_access_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_access_tokens_account_id'))

    op.drop_table('portal_access_tokens')
    op.drop_table('portal_organisations')
    with op.batch_alter_table('portal_login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_login_failures_email'))
        batch_op.drop_index(batch_op.f('ix_portal_login_failures_address'))

    op.drop_table('portal_login_failures')
    with op.batch_alter_table('portal_audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_audit_log_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_portal_audit_log_account_id'))

    op.drop_table('portal_audit_log')
    op.drop_table('portal_accounts')
