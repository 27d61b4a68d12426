"""sla: one clock row per target per case, and the SLA event log

Revision ID: a41c7e2d9b58
Revises: e5a1c9b7d3f2
Create Date: 2026-12-01

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a41c7e2d9b58'
down_revision = 'e5a1c9b7d3f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sla_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.Column('level', sa.String(length=80), nullable=True),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('paused_reason', sa.String(length=120), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('policy_version', sa.String(length=40), nullable=False),
    sa.Column('clock', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'target')
    )
    with op.batch_alter_table('sla_clock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_clock_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_sla_clock_state_due', ['state', 'due_at'], unique=False)
    op.create_table('sla_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_minutes', sa.Integer(), nullable=False),
    sa.Column('over_minutes', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sla_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_event_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_sla_event_kind_at', ['kind', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('sla_event', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_event_kind_at')
        batch_op.drop_index(batch_op.f('ix_sla_event_instance_id'))
    op.drop_table('sla_event')
    with op.batch_alter_table('sla_clock', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_clock_state_due')
        batch_op.drop_index(batch_op.f('ix_sla_clock_instance_id'))
    op.drop_table('sla_clock')
