"""base status changes: who changed a base's status, why and when; when it was de-listed

Revision ID: registry_0004
Revises: registry_0003
Create Date: 2026-11-30 17:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = 'registry_0004'
down_revision: Union[str, Sequence[str], None] = 'registry_0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: bases de-listed before this record have no de-listing date (no ban)."""
    with op.batch_alter_table('registry_bases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delisted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('delisted_in_year', sa.Integer(), nullable=True))
    op.create_table('registry_base_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('base', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('change', sa.Integer(), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('program', 'base', 'change')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('registry_base_status_changes')
    with op.batch_alter_table('registry_bases', schema=None) as batch_op:
        batch_op.drop_column('delisted_in_year')
        batch_op.drop_column('delisted_at')
