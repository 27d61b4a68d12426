"""reports: instance facts table, indexes for date ranges and milestone events

Revision ID: 16313f7bcebe
Revises: b7d41c2e9a05
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '16313f7bcebe'
down_revision = 'b7d41c2e9a05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('instance_fact',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('number', sa.Float(), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', 'name')
    )
    op.create_index('ix_instance_fact_name_value', 'instance_fact', ['name', 'value'], unique=False)
    op.create_index('ix_process_instance_started_at', 'process_instance', ['started_at'], unique=False)
    op.create_index('ix_process_instance_ended_at', 'process_instance', ['ended_at'], unique=False)
    op.create_index('ix_event_element_instance', 'event', ['element_id', 'instance_id', 'at'], unique=False)


def downgrade():
    op.drop_index('ix_event_element_instance', table_name='event')
    op.drop_index('ix_process_instance_ended_at', table_name='process_instance')
    op.drop_index('ix_process_instance_started_at', table_name='process_instance')
    op.drop_index('ix_instance_fact_name_value', table_name='instance_fact')
    op.drop_table('instance_fact')
