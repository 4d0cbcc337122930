"""expert index: an expert's assignments looked up by program and expert

Revision ID: assessment_0003
Revises: assessment_0002
Create Date: 2026-12-01 06:00:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'assessment_0003'
down_revision: Union[str, Sequence[str], None] = 'assessment_0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: the expert's own list no longer scans every assignment of the program."""
    op.create_index(
        'ix_assessment_assignments_expert', 'assessment_assignments', ['program', 'expert']
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_assessment_assignments_expert', table_name='assessment_assignments')
