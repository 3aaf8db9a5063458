"""The audit log pages quickly whatever it is filtered by: an index per filter, each ending in (at, id)

The audit page lists entries newest first by (at, id) and filters by user, action or person (target).
Each index leads with its filter and ends with the order, so a page is read from an index range, not
by sorting a year of entries. The single-column indexes on `at` and `user_id` are covered by these.

Revision ID: 0011_audit_log_filters
Revises: 0010_call_backs
Create Date: 2026-11-30 06:35:00

"""
from alembic import op

revision = '0011_audit_log_filters'
down_revision = '0010_call_backs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')
        batch_op.drop_index('ix_audit_log_user_id')
        batch_op.create_index('ix_audit_log_at_id', ['at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_user_at', ['user_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_action_at', ['action', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_target_at', ['target_type', 'target_id', 'at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_target_at')
        batch_op.drop_index('ix_audit_log_action_at')
        batch_op.drop_index('ix_audit_log_user_at')
        batch_op.drop_index('ix_audit_log_at_id')
        batch_op.create_index('ix_audit_log_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)
