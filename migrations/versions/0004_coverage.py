"""coverage: an index that covers the status query of a whole estate

Revision ID: 0004_coverage
Revises: 0001_whole_domain
Create Date: 2026-11-22 07:20:00

The coverage map derives every door's status of an estate from all its visits in one query; with
these columns in one index the database reads the index alone, in door and time order.
"""
from alembic import op

revision = '0004_coverage'
down_revision = '0001_whole_domain'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_coverage',
                              ['property_id', 'recorded_at', 'outcome', 'time_slot', 'worker_id'], unique=False)


def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_coverage')
