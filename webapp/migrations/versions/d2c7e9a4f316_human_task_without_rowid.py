"""human_task: WITHOUT ROWID on SQLite

Revision ID: d2c7e9a4f316
Revises: a8d3f6c2b1e7
Create Date: 2026-11-28

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd2c7e9a4f316'
down_revision = 'a8d3f6c2b1e7'
branch_labels = None
depends_on = None


def _rebuild(with_rowid: bool) -> None:
    # Only SQLite has rowid tables; elsewhere there is nothing to change.
    if op.get_bind().dialect.name != 'sqlite':
        return
    with op.batch_alter_table('human_task', recreate='always',
                              table_kwargs={'sqlite_with_rowid': with_rowid}):
        pass


def upgrade():
    # Every step of a process closes a task and opens the next; keyed by its text id, a rowid table stores each
    # row twice (the table and the primary-key index), so each step wrote one page more to the log.
    _rebuild(with_rowid=False)


def downgrade():
    _rebuild(with_rowid=True)
