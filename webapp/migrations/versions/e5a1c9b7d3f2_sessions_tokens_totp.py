"""security: server-side sessions, API token expiry/scopes/revocation, TOTP secrets; Client is no staff role

Revision ID: e5a1c9b7d3f2
Revises: d2c7e9a4f316
Create Date: 2026-12-04

"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5a1c9b7d3f2'
down_revision = 'd2c7e9a4f316'
branch_labels = None
depends_on = None

# Tokens made before scopes existed keep what they could do, and expire like a new default token would.
OLD_TOKEN_SCOPES = ["read", "work", "start", "admin"]
OLD_TOKEN_DAYS = 90


def upgrade():
    op.create_table('user_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('scopes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('process_keys', sa.JSON(), nullable=True))
    expires = datetime.now(UTC) + timedelta(days=OLD_TOKEN_DAYS)
    if op.get_bind().dialect.name == 'sqlite':
        expires = expires.replace(tzinfo=None)
    token = sa.table('api_token', sa.column('scopes', sa.JSON), sa.column('expires_at', sa.DateTime(timezone=True)))
    op.execute(token.update().values(scopes=OLD_TOKEN_SCOPES, expires_at=expires))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.JSON(), nullable=False)  # every token has its scopes now
    # Clients are not a staff role (docs/decisions.md): nobody keeps the `Client` role, which granted every
    # client's personal data through the shipped processes' `Client` lane. Not restored by the downgrade.
    op.execute("DELETE FROM user_role WHERE role_name = 'Client'")


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('process_keys')
        batch_op.drop_column('scopes')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('totp_secret')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
    op.drop_table('user_session')
