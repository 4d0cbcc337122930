"""timeline rows name their document and a short detail

Revision ID: dashboard_0002
Revises: dashboard_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "dashboard_0002"
down_revision: str | Sequence[str] | None = "dashboard_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dashboard_timeline") as batch:
        batch.add_column(
            sa.Column("document_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(
            sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("dashboard_timeline") as batch:
        batch.drop_column("detail")
        batch.drop_column("document_id")
