"""Call-backs kept until a later visit or a dated close; an assignment's time of day

A call-back stays on the visit that made it (visit.call_back_at); closing one without a visit is a record
of who closed it, when and why (call_back_close), so the visit itself is never changed. The index finds
the few visits with a call-back among the many. An assignment may name a time slot ("evenings").

Revision ID: 0010_call_backs
Revises: 0009_sign_ins
Create Date: 2026-11-30 04:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0010_call_backs'
down_revision = '0009_sign_ins'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'call_back_close',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('closed_by_id', sa.Integer(), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id']),
        sa.ForeignKeyConstraint(['closed_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('visit_id'),
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_call_back', ['call_back_at', 'property_id', 'recorded_at'], unique=False)
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_slot', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('time_slot')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_call_back')
    op.drop_table('call_back_close')
