"""A participant can be restricted (hidden, still counted) and erased (anonymised in place)

Restriction says when, why (consent withdrawn, or an admin for a disputed record) and an admin's note;
erasure says when. Who did either, and why, is in the audit log; what was erased is not kept anywhere.

Revision ID: 0012_restriction_and_erasure
Revises: 0011_audit_log_filters
Create Date: 2026-11-30 06:36:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0012_restriction_and_erasure'
down_revision = '0011_audit_log_filters'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restricted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('restriction', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('restriction_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
        batch_op.drop_column('restriction_note')
        batch_op.drop_column('restriction')
        batch_op.drop_column('restricted_at')
