"""portal: one-time link uses and rate-limit counters

Revision ID: b7e4c1d2a9f0
Revises: 16313f7bcebe
Create Date: 2026-11-28

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e4c1d2a9f0'
down_revision = '16313f7bcebe'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_counter',
    sa.Column('bucket', sa.String(length=80), nullable=False),
    sa.Column('window', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'window')
    )
    op.create_table('link_use',
    sa.Column('token_id', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_id')
    )
    with op.batch_alter_table('link_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_use_instance_id'), ['instance_id'], unique=False)


def downgrade():
    with op.batch_alter_table('link_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_use_instance_id'))
    op.drop_table('link_use')
    op.drop_table('rate_counter')
