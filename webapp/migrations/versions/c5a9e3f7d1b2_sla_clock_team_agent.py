"""sla_clock.team and .agent: the lane and user a stopped clock is credited to, for the SLA reports (issue 16)

Revision ID: c5a9e3f7d1b2
Revises: b4e8d2a6c913
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c5a9e3f7d1b2'
down_revision = 'b4e8d2a6c913'
branch_labels = None
depends_on = None


def upgrade():
    # Clocks stopped before this revision stay uncredited: the reports show them under "(none)".
    op.add_column('sla_clock', sa.Column('team', sa.String(length=120), nullable=True))
    op.add_column('sla_clock', sa.Column('agent', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('sla_clock') as batch:
        batch.drop_column('agent')
        batch.drop_column('team')
