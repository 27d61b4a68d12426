"""clients: the client record and the link from each case to it

Revision ID: c1e7a4d92b60
Revises: e6f1a2b3c4d5
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c1e7a4d92b60'
down_revision = 'e6f1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('client_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('registration_number', sa.String(length=40), nullable=True),
    sa.Column('contact_name', sa.String(length=120), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('preferred_channel', sa.String(length=20), nullable=False),
    sa.Column('consent_surveys', sa.Boolean(), nullable=False),
    sa.Column('consent_marketing', sa.Boolean(), nullable=False),
    sa.Column('relationship_manager', sa.String(length=120), nullable=True),
    sa.Column('relationship_manager_email', sa.String(length=254), nullable=True),
    sa.Column('sla_response_hours', sa.Integer(), nullable=True),
    sa.Column('sla_resolution_days', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('client_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_record_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_record_registration_number'), ['registration_number'],
                              unique=False)
    op.create_table('client_case',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('matched_on', sa.String(length=30), nullable=False),
    sa.Column('case_email', sa.String(length=254), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('linked_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client_record.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id')
    )
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_case_client_id'), ['client_id'], unique=False)


def downgrade():
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_case_client_id'))
    op.drop_table('client_case')
    with op.batch_alter_table('client_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_record_registration_number'))
        batch_op.drop_index(batch_op.f('ix_client_record_email'))
    op.drop_table('client_record')
