"""reports: index cases by process and start time

Revision ID: 9130d67760a4
Revises: c3a9d7e51f08
Create Date: 2026-11-29

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '9130d67760a4'
down_revision = 'c3a9d7e51f08'
branch_labels = None
depends_on = None


def upgrade():
    # Reports select one process's cases opened in a date range; without it they scan every process's cases.
    op.create_index('ix_process_instance_key_started', 'process_instance', ['process_key', 'started_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_process_instance_key_started', table_name='process_instance')
