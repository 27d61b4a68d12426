"""inbox order in two partial indexes (claimed / unclaimed); SLA clock lookups by (instance_id, state, due_at)

Revision ID: e3b7d9f2a6c4
Revises: c5a9e3f7d1b2
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e3b7d9f2a6c4'
down_revision = 'c5a9e3f7d1b2'
branch_labels = None
depends_on = None

CLAIMED, UNCLAIMED = sa.text('claimed_by IS NOT NULL'), sa.text('claimed_by IS NULL')


def upgrade():
    # PostgreSQL cannot read the group inbox (claimed_by IS NULL) in order from an index that starts with
    # claimed_by: it sorted all open tasks for every page (600 ms at 100,000). Each row is in one of the two.
    op.create_index('ix_human_task_claimed_order', 'human_task', ['claimed_by', 'sort_due', 'created_at', 'id'],
                    sqlite_where=CLAIMED, postgresql_where=CLAIMED)
    op.create_index('ix_human_task_unclaimed_order', 'human_task', ['sort_due', 'created_at', 'id'],
                    sqlite_where=UNCLAIMED, postgresql_where=UNCLAIMED)
    op.drop_index('ix_human_task_inbox_order', table_name='human_task')
    # The unique (instance_id, target) index already serves lookups by instance; the SLA filters need state and
    # due time beside it, or SQLite walks every running past-due clock for each task of the page.
    op.create_index('ix_sla_clock_instance_state_due', 'sla_clock', ['instance_id', 'state', 'due_at'])
    op.drop_index('ix_sla_clock_instance_id', table_name='sla_clock')


def downgrade():
    op.create_index('ix_sla_clock_instance_id', 'sla_clock', ['instance_id'])
    op.drop_index('ix_sla_clock_instance_state_due', table_name='sla_clock')
    op.create_index('ix_human_task_inbox_order', 'human_task', ['claimed_by', 'sort_due', 'created_at', 'id'])
    op.drop_index('ix_human_task_unclaimed_order', table_name='human_task')
    op.drop_index('ix_human_task_claimed_order', table_name='human_task')
