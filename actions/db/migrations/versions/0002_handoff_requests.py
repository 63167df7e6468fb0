"""Hand-off requests passed on to the national contact point (actions/handoff/models.py).

Table: handoff_requests (one row per request the user agreed to store; delivery to Slack
as an outbox, see actions/handoff/outbox.py). Works on SQLite and PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('handoff_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('organisation', sa.String(length=150), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('source_channel', sa.String(length=32), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('delivery_status', sa.String(length=16), nullable=False),
    sa.Column('delivery_token', sa.String(length=32), nullable=False),
    sa.Column('delivery_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('maybe_posted', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('slack_ts', sa.String(length=32), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint("delivery_status IN ('pending', 'sending', 'delivered')", name=op.f('ck_handoff_requests_delivery_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_requests')),
    sa.UniqueConstraint('delivery_token', name=op.f('uq_handoff_requests_delivery_token'))
    )
    with op.batch_alter_table('handoff_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoff_requests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_handoff_requests_delivery_status'), ['delivery_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_handoff_requests_handled_at'), ['handled_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('handoff_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_requests_handled_at'))
        batch_op.drop_index(batch_op.f('ix_handoff_requests_delivery_status'))
        batch_op.drop_index(batch_op.f('ix_handoff_requests_created_at'))

    op.drop_table('handoff_requests')
