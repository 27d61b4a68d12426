"""notification.digest: staff SLA mail sent in business hours and gathered into one digest per recipient (issue 16)

Revision ID: b4e8d2a6c913
Revises: c5f8a3d2e7b9
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b4e8d2a6c913'
down_revision = 'c5f8a3d2e7b9'
branch_labels = None
depends_on = None


def upgrade():
    # Rows queued before this revision are single mails, as they were.
    op.add_column('notification', sa.Column('digest', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('notification') as batch:
        batch.drop_column('digest')
