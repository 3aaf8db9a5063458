"""Door facts: what each door's counted visits add up to, kept beside them (outreach/door_facts.py)

A manager's home and the all-time funnel read one row a door instead of every visit. Filled from the visits
already stored by 0017 (door facts reached at), by the same code that keeps it from now on.

Revision ID: 0016_door_facts
Revises: 0015_group_sessions
Create Date: 2026-11-30 13:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0016_door_facts'
down_revision = '0015_group_sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('door_facts',
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('depth', sa.SmallInteger(), nullable=False),
    sa.Column('knocks', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('slots', sa.SmallInteger(), nullable=False),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.Column('call_back', sa.Boolean(), nullable=False),
    sa.Column('gap_days', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['property_id'], ['property.id'], ),
    sa.PrimaryKeyConstraint('property_id')
    )
    with op.batch_alter_table('door_facts', schema=None) as batch_op:
        batch_op.create_index('ix_door_facts_call_back', ['property_id'], unique=False,
                              sqlite_where=sa.text('call_back'), postgresql_where=sa.text('call_back'))
    # Filled by 0017, which adds the columns the code keeps now: the code's rows no longer fit this table.


def downgrade():
    op.drop_table('door_facts')
