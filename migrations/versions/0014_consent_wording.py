"""Consent wording as data: admins add versions of the text read out at sign-up, never edit them

The version shipped with Outreach stays in the code (outreach/participants/wording.py) and is current until
an admin adds one here.

Revision ID: 0014_consent_wording
Revises: 0013_caseworkers
Create Date: 2026-11-30 07:15:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0014_consent_wording'
down_revision = '0013_caseworkers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'consent_wording',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('data_processing', sa.Text(), nullable=False),
        sa.Column('contact', sa.Text(), nullable=False),
        sa.Column('special_category', sa.Text(), nullable=False),
        sa.Column('partner_sharing', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('version'),
    )


def downgrade():
    op.drop_table('consent_wording')
