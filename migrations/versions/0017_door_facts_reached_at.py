"""Door facts: when each door last reached each door step

So the funnel over a period up to now (its default, the last 12 months) reads one row a door instead of every
visit, as the all-time funnel does. Filled here from the visits already stored, by the same code that keeps it
from now on. The table is locked while it is filled (about 15-20 s for a million visits on PostgreSQL): a release
still serving meanwhile waits to store a visit, and a phone says "Saved on this phone" and sends it after.
Rows that release writes after this have no dates: the funnel works those doors out from their visits.

Revision ID: 0017_door_facts_reached_at
Revises: 0016_door_facts
Create Date: 2026-11-30 19:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0017_door_facts_reached_at'
down_revision = '0016_door_facts'
branch_labels = None
depends_on = None

STEPS = ('knocked_at', 'answered_at', 'conversation_at', 'interested_at')


def upgrade():
    with op.batch_alter_table('door_facts', schema=None) as batch_op:
        for column in STEPS:
            batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    from outreach.door_facts import rebuild
    rebuild(op.get_bind())


def downgrade():
    with op.batch_alter_table('door_facts', schema=None) as batch_op:
        for column in STEPS:
            batch_op.drop_column(column)
