"""calendar versions: the holiday tables a bureau maintains

Revision ID: registry_0002
Revises: registry_0001
Create Date: 2026-11-30 15:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = 'registry_0002'
down_revision: Union[str, Sequence[str], None] = 'registry_0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('registry_calendar_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('applied_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('calendar', 'version')
    )
    with op.batch_alter_table('registry_calendar_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_calendar_versions_calendar'), ['calendar'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('registry_calendar_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_calendar_versions_calendar'))

    op.drop_table('registry_calendar_versions')
