"""A participant has a caseworker, at first who signed them up; each change is a dated record

Existing participants get the worker who signed them up as their caseworker. The changes are kept
(caseworker_change) because changes of advisor drive drop-out.

Revision ID: 0013_caseworkers
Revises: 0012_restriction_and_erasure
Create Date: 2026-11-30 06:55:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0013_caseworkers'
down_revision = '0012_restriction_and_erasure'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'caseworker_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('previous_id', sa.Integer(), nullable=True),
        sa.Column('caseworker_id', sa.Integer(), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['caseworker_id'], ['user.id']),
        sa.ForeignKeyConstraint(['changed_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['participant_id'], ['participant.id']),
        sa.ForeignKeyConstraint(['previous_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('caseworker_change', schema=None) as batch_op:
        batch_op.create_index('ix_caseworker_change_participant_id', ['participant_id'], unique=False)
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('caseworker_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_participant_caseworker_id', ['caseworker_id'], unique=False)
        batch_op.create_foreign_key('fk_participant_caseworker_id_user', 'user', ['caseworker_id'], ['id'])
    op.execute("UPDATE participant SET caseworker_id = created_by_id")


def downgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_constraint('fk_participant_caseworker_id_user', type_='foreignkey')
        batch_op.drop_index('ix_participant_caseworker_id')
        batch_op.drop_column('caseworker_id')
    with op.batch_alter_table('caseworker_change', schema=None) as batch_op:
        batch_op.drop_index('ix_caseworker_change_participant_id')
    op.drop_table('caseworker_change')
