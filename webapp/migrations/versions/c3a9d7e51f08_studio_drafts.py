"""studio: drafts of process owners (a bundle per process key and user)

Revision ID: c3a9d7e51f08
Revises: b7e4c1d2a9f0
Create Date: 2026-11-28

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3a9d7e51f08'
down_revision = 'b7e4c1d2a9f0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('studio_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=120), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('process_key', 'username')
    )
    with op.batch_alter_table('studio_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_studio_draft_username'), ['username'], unique=False)


def downgrade():
    with op.batch_alter_table('studio_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_studio_draft_username'))
    op.drop_table('studio_draft')
