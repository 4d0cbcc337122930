"""reassignments: an assignment's due date, and who took the place of a replaced expert

Revision ID: assessment_0002
Revises: assessment_0001
Create Date: 2026-11-30 17:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = 'assessment_0002'
down_revision: Union[str, Sequence[str], None] = 'assessment_0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: earlier assignments were never replaced and carry no due date."""
    with op.batch_alter_table('assessment_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('replaced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('replaced_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(
            sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False, server_default='')
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('assessment_assignments', schema=None) as batch_op:
        batch_op.drop_column('reason')
        batch_op.drop_column('replaced_by')
        batch_op.drop_column('replaced_at')
        batch_op.drop_column('due')
