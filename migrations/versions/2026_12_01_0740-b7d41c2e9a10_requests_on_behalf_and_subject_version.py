"""transition requests: asked on behalf of whom, and the object's version the claim was made on

Revision ID: b7d41c2e9a10
Revises: aba2f323535c
Create Date: 2026-12-01 07:40:00

"""
from alembic import op
import sqlalchemy as sa

import service.db  # custom column types (UTC datetimes)


revision = 'b7d41c2e9a10'
down_revision = 'aba2f323535c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('transition_requests') as batch:
        batch.add_column(sa.Column('on_behalf_of_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('subject_version', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('decided_at', service.db.UTCDateTime(), nullable=True))
        batch.create_foreign_key(
            batch.f('fk_transition_requests_on_behalf_of_id_users'), 'users', ['on_behalf_of_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('transition_requests') as batch:
        batch.drop_constraint(batch.f('fk_transition_requests_on_behalf_of_id_users'), type_='foreignkey')
        batch.drop_column('decided_at')
        batch.drop_column('subject_version')
        batch.drop_column('on_behalf_of_id')
