"""Sign-ins as records: each signed-in device of a user, which the session cookie points to and which can be ended

The cookie holds a random token and the table only its SHA-256, so ending a row (sign-out, a password change,
an admin's reset or deactivation, "sign out everywhere") ends every copy of that cookie. Cookies made before
this revision name no sign-in, so everyone signs in once more after the upgrade; waiting records stay on the
phones and are sent after (the offline contract's 401).

Revision ID: 0009_sign_ins
Revises: 0008_audit_action_names
Create Date: 2026-11-30 03:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0009_sign_ins'
down_revision = '0008_audit_action_names'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_in',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('device', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_reason', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_user_id'))
    op.drop_table('sign_in')
