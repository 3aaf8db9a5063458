"""participants: sign-up identity digest; indexes for the funnel's aggregate queries

Revision ID: 0005_participants
Revises: 0004_coverage
Create Date: 2026-11-22 09:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0005_participants'
down_revision = '0004_coverage'
branch_labels = None
depends_on = None


def upgrade():
    # A sign-up is replayed from the phone like a visit: the same UUID with other content is a conflict.
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_funnel', ['property_id', 'outcome', 'worker_id', 'recorded_at'],
                              unique=False)
    with op.batch_alter_table('stage_event', schema=None) as batch_op:
        batch_op.create_index('ix_stage_event_reach', ['stage', 'participant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('stage_event', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_event_reach')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_funnel')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('content_hash')
