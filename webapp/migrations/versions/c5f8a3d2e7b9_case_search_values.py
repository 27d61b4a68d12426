"""case_search_value: the searchable fields of each case, for the inbox search (issue 19)

Revision ID: c5f8a3d2e7b9
Revises: d4a7f1c3e8b2
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c5f8a3d2e7b9'
down_revision = 'd4a7f1c3e8b2'
branch_labels = None
depends_on = None


def upgrade():
    # Filled as cases are saved: a case saved before this revision is found by its searchable fields from its
    # next change on.
    op.create_table('case_search_value',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('personal', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', 'name')
    )


def downgrade():
    op.drop_table('case_search_value')
