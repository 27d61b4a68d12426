"""human_task: drop the claimed_by index the inbox-order index already covers

Revision ID: a8d3f6c2b1e7
Revises: 5e2b8c0d4f1a
Create Date: 2026-11-28

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a8d3f6c2b1e7'
down_revision = '5e2b8c0d4f1a'
branch_labels = None
depends_on = None


def upgrade():
    # ix_human_task_inbox_order starts with claimed_by, so it serves every lookup this one did; each open or
    # completed task wrote both (one page more in SQLite's log per step).
    op.drop_index('ix_human_task_claimed_by', table_name='human_task')


def downgrade():
    op.create_index('ix_human_task_claimed_by', 'human_task', ['claimed_by'], unique=False)
