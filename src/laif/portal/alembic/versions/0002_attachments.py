"""Files attached to request messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:51:02.586607
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portal_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['portal_request_messages.id'],
        name=op.f('fk_portal_attachments_message_id_portal_request_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['portal_service_requests.id'],
        name=op.f('fk_portal_attachments_request_id_portal_service_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_attachments'))
    )
    with op.batch_alter_table('portal_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_attachments_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('portal_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_attachments_request_id'))

    op.drop_table('portal_attachments')
