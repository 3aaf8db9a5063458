"""Funnel indexes: ix_visit_trend (each week's visits from the index alone), ix_visit_funnel with the time second

ix_visit_funnel gains the time in second place and the id, so the funnel can read again, index only and for a
period, the visits of the few doors with a voided visit.

Revision ID: 0007_funnel_speed
Revises: 0006_admin
Create Date: 2026-11-22 12:00:00

"""
from alembic import op

revision = '0007_funnel_speed'
down_revision = '0006_admin'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_funnel')
        batch_op.create_index('ix_visit_funnel', ['property_id', 'recorded_at', 'outcome', 'worker_id', 'id'],
                              unique=False)
        batch_op.create_index('ix_visit_trend', ['recorded_at', 'outcome', 'property_id', 'worker_id', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_trend')
        batch_op.drop_index('ix_visit_funnel')
        batch_op.create_index('ix_visit_funnel', ['property_id', 'outcome', 'worker_id', 'recorded_at'],
                              unique=False)
