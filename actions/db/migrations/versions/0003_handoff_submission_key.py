"""Idempotency key of a hand-off submission (issue 10, point 8).

Adds handoff_requests.submission_key (nullable: rows stored before this revision have
none) with a unique constraint, so one submission (one run of the form) is stored at most
once, even when the submit action is retried after its commit. Works on SQLite (batch
mode rebuilds the table) and PostgreSQL. Written on 2026-11-29.
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'  # after 0002, on no branch
down_revision = '0002'
branch_labels = depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoff_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_handoff_requests_submission_key'), ['submission_key']
        )


def downgrade() -> None:
    with op.batch_alter_table('handoff_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_handoff_requests_submission_key'), type_='unique')
        batch_op.drop_column('submission_key')
