"""client_record: risk rating, KYC review interval, date and outcome of the last KYC review (issue 18)

Revision ID: b7e4c2a9d1f5
Revises: a3d9e1f0b7c2
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e4c2a9d1f5'
down_revision = 'a3d9e1f0b7c2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client_record') as batch:
        batch.add_column(sa.Column('risk_rating', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('kyc_review_interval', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('kyc_reviewed_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('kyc_outcome', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('client_record') as batch:
        batch.drop_column('kyc_outcome')
        batch.drop_column('kyc_reviewed_on')
        batch.drop_column('kyc_review_interval')
        batch.drop_column('risk_rating')
