"""Audit actions renamed to one scheme, noun.verb: rewrite the entries already stored under the old names

consent_withdrawn -> consent.withdraw, saturation_rule_changed -> saturation_rule.change,
participants_exported -> participants.export, assignment_made/_withdrawn/_ended -> assignment.create/withdraw/end.
No schema change: only stored values, so the log reads one way for old and new entries alike.

Revision ID: 0008_audit_action_names
Revises: 0007_funnel_speed
Create Date: 2026-11-30 03:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0008_audit_action_names'
down_revision = '0007_funnel_speed'
branch_labels = None
depends_on = None

RENAMED = {
    'consent_withdrawn': 'consent.withdraw',
    'saturation_rule_changed': 'saturation_rule.change',
    'participants_exported': 'participants.export',
    'assignment_made': 'assignment.create',
    'assignment_withdrawn': 'assignment.withdraw',
    'assignment_ended': 'assignment.end',
}

audit_log = sa.table('audit_log', sa.column('action', sa.String(64)))


def _rename(pairs):
    for old, new in pairs:
        op.execute(audit_log.update().where(audit_log.c.action == op.inline_literal(old))
                   .values(action=op.inline_literal(new)))


def upgrade():
    _rename(RENAMED.items())


def downgrade():
    _rename((new, old) for old, new in RENAMED.items())
