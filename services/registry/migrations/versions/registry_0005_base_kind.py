"""base kind: the kind of participant a base registered as (a program's participants)

Revision ID: registry_0005
Revises: registry_0004
Create Date: 2026-12-01 03:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = 'registry_0005'
down_revision: Union[str, Sequence[str], None] = 'registry_0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: bases registered before kinds existed are of their program's one kind
    (empty: the program's first kind)."""
    with op.batch_alter_table('registry_bases', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'kind',
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default='',
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('registry_bases', schema=None) as batch_op:
        batch_op.drop_column('kind')
