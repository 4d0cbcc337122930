"""base declarations: the applicant's answers to the program's declarations, with evidence

Revision ID: registry_0003
Revises: registry_0002
Create Date: 2026-11-30 16:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'registry_0003'
down_revision: Union[str, Sequence[str], None] = 'registry_0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: bases registered before declarations existed declared nothing."""
    with op.batch_alter_table('registry_bases', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('declarations', sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('registry_bases', schema=None) as batch_op:
        batch_op.drop_column('declarations')
