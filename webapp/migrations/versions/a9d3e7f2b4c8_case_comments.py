"""casework: internal comments on cases (with the users they mention)

Revision ID: a9d3e7f2b4c8
Revises: f8b2c6d1e9a7
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a9d3e7f2b4c8'
down_revision = 'f8b2c6d1e9a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=80), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('mentions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_comment_instance_id'), ['instance_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_comment_instance_id'))
    op.drop_table('case_comment')
