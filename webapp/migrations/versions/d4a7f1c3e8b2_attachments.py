"""client_document.task_id and task_name: attachments added on a task of a case (issue 19)

Revision ID: d4a7f1c3e8b2
Revises: b7e4c2a9d1f5
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4a7f1c3e8b2'
down_revision = 'b7e4c2a9d1f5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client_document') as batch:
        batch.add_column(sa.Column('task_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('task_name', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('client_document') as batch:
        batch.drop_column('task_name')
        batch.drop_column('task_id')
