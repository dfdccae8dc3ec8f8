"""the administration's official name; the responsible units of a goal in the order entered;
the goals' entries in the year's report; amendments and versions of an adopted plan

Revision ID: b7c1d2e3f4a5
Revises: 73c6c4e61045
Create Date: 2026-12-01 07:20:00

"""
from alembic import op
import sqlalchemy as sa

import service.db  # custom column types (UTC datetimes)


# revision identifiers, used by Alembic.
revision = 'b7c1d2e3f4a5'
down_revision = '73c6c4e61045'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('official_name', sa.String(length=300), server_default='', nullable=False))
    with op.batch_alter_table('goal_units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), server_default='0', nullable=False))
    op.create_table('report_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('narrative_edited', sa.Boolean(), nullable=False),
    sa.Column('quarters', sa.JSON(), nullable=False),
    sa.Column('updated_at', service.db.UTCDateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', service.db.UTCDateTime(), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_report_entries_goal_id_goals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_report_entries_signed_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_report_entries_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_entries')),
    sa.UniqueConstraint('goal_id', name=op.f('uq_report_entries_goal_id'))
    )
    with op.batch_alter_table('report_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_entries_state'), ['state'], unique=False)
    op.create_table('report_entry_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('achieved', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('achieved_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['report_entries.id'], name=op.f('fk_report_entry_values_entry_id_report_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_report_entry_values_indicator_id_indicators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_entry_values')),
    sa.UniqueConstraint('entry_id', 'indicator_id', name=op.f('uq_report_entry_values_entry_id_indicator_id'))
    )
    with op.batch_alter_table('report_entry_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_entry_values_entry_id'), ['entry_id'], unique=False)
    op.create_table('plan_amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('unit_ids_concerned', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', service.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_plan_amendments_created_by_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_amendments_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_amendments'))
    )
    with op.batch_alter_table('plan_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_amendments_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_amendments_state'), ['state'], unique=False)
    op.create_table('plan_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('adopted_at', service.db.UTCDateTime(), nullable=True),
    sa.Column('adopted_by_id', sa.Integer(), nullable=True),
    sa.Column('amendment_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['adopted_by_id'], ['users.id'], name=op.f('fk_plan_versions_adopted_by_id_users')),
    sa.ForeignKeyConstraint(['amendment_id'], ['plan_amendments.id'], name=op.f('fk_plan_versions_amendment_id_plan_amendments')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_versions_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_versions')),
    sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_plan_versions_plan_id_number'))
    )
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_versions_plan_id'), ['plan_id'], unique=False)


def downgrade():
    op.drop_table('plan_versions')
    op.drop_table('plan_amendments')
    op.drop_table('report_entry_values')
    op.drop_table('report_entries')
    with op.batch_alter_table('goal_units', schema=None) as batch_op:
        batch_op.drop_column('position')
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.drop_column('official_name')
