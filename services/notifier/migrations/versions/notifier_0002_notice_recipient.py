"""notices addressed to one person (an expert): recipient

Revision ID: notifier_0002
Revises: notifier_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "notifier_0002"
down_revision: str | Sequence[str] | None = "notifier_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifier_notices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "recipient",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch_op.create_index(
            batch_op.f("ix_notifier_notices_recipient"), ["recipient"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notifier_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifier_notices_recipient"))
        batch_op.drop_column("recipient")
