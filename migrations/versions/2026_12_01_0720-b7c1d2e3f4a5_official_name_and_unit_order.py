"""the administration's official name; the responsible units of a goal in the order entered

Revision ID: b7c1d2e3f4a5
Revises: 3f5a7438f7e2
Create Date: 2026-12-01 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c1d2e3f4a5'
down_revision = '3f5a7438f7e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('official_name', sa.String(length=300), server_default='', nullable=False))
    with op.batch_alter_table('goal_units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('goal_units', schema=None) as batch_op:
        batch_op.drop_column('position')
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.drop_column('official_name')
