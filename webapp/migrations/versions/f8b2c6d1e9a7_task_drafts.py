"""casework: drafts of task forms (saved by the user, or kept when the session ended)

Revision ID: f8b2c6d1e9a7
Revises: 7c2e5a9d1b34
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f8b2c6d1e9a7'
down_revision = '7c2e5a9d1b34'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('task_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username', 'task_id')
    )
    with op.batch_alter_table('task_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_draft_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_draft_instance_id'), ['instance_id'], unique=False)


def downgrade():
    with op.batch_alter_table('task_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_draft_instance_id'))
        batch_op.drop_index(batch_op.f('ix_task_draft_task_id'))
    op.drop_table('task_draft')
