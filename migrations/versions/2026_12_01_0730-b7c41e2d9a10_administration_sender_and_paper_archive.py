"""The administration's email sender, each message's From, and past reports signed on paper

Revision ID: b7c41e2d9a10
Revises: b7d41c2e9a10
Create Date: 2026-12-01 07:30:00

"""
from alembic import op
import sqlalchemy as sa

import service.db  # custom column types (UTC datetimes)


# revision identifiers, used by Alembic.
revision = 'b7c41e2d9a10'
down_revision = 'b7d41c2e9a10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_from_name', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('mail_from_address', sa.String(length=254), server_default='', nullable=False))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender', sa.String(length=500), server_default='', nullable=False))
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_signed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('archive_imported_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('archive_imported_at', service.db.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_plans_archive_imported_by_id_users'), 'users', ['archive_imported_by_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plans_archive_imported_by_id_users'), type_='foreignkey')
        batch_op.drop_column('archive_imported_at')
        batch_op.drop_column('archive_imported_by_id')
        batch_op.drop_column('paper_signed_on')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('sender')
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.drop_column('mail_from_address')
        batch_op.drop_column('mail_from_name')
