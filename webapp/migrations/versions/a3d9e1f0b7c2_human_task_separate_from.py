"""human_task.separate_from (barred users are not offered a sign-off) and client_document (uploads) (issue 18)

Revision ID: a3d9e1f0b7c2
Revises: a9d3e7f2b4c8
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a3d9e1f0b7c2'
down_revision = 'a9d3e7f2b4c8'
branch_labels = None
depends_on = None


def upgrade():
    # Rows of tasks opened before this revision stay NULL: their completion is still checked (engine-side).
    op.add_column('human_task', sa.Column('separate_from', sa.String(length=400), nullable=True))
    op.create_table('client_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('uploaded_by', sa.String(length=80), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_client_document_instance_id'), 'client_document', ['instance_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_client_document_instance_id'), table_name='client_document')
    op.drop_table('client_document')
    # On SQLite the table is rebuilt without the column, keeping it WITHOUT ROWID (d2c7e9a4f316).
    kwargs = {'sqlite_with_rowid': False} if op.get_bind().dialect.name == 'sqlite' else {}
    with op.batch_alter_table('human_task', table_kwargs=kwargs) as batch:
        batch.drop_column('separate_from')
