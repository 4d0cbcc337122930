"""document grants for viewers and operators

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-11-30 17:00:00

Users made before grants existed read no documents (false), as a viewer or operator now must be
granted them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0003"
down_revision: str | Sequence[str] | None = "gateway_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("documents", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("gateway_users", schema=None) as batch_op:
        batch_op.drop_column("documents")
