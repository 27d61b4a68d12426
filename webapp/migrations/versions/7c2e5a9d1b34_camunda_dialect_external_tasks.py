"""camunda: the dialect a version was read with; external tasks waiting for workers

Revision ID: 7c2e5a9d1b34
Revises: c1e7a4d92b60
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c2e5a9d1b34'
down_revision = 'c1e7a4d92b60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dialect', sa.String(length=20), nullable=True))
    op.create_table('external_task',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=120), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=255), nullable=True),
    sa.Column('lock_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retries', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.String(length=1000), nullable=True),
    sa.Column('error_details', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('external_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_task_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_external_task_topic'), ['topic'], unique=False)


def downgrade():
    with op.batch_alter_table('external_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_task_topic'))
        batch_op.drop_index(batch_op.f('ix_external_task_instance_id'))
    op.drop_table('external_task')
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.drop_column('dialect')
