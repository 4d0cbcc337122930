"""token lifetimes, last use and rotation

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-11-30 17:00:00

Tokens issued before lifetimes existed get the default lifetime counted from this upgrade, so
none expires the moment the gateway is upgraded and none lives for ever.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "gateway_0002"
down_revision: str | Sequence[str] | None = "gateway_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_LIFETIME = timedelta(days=90)


def upgrade() -> None:
    with op.batch_alter_table("gateway_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("rotated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    users = sa.table(
        "gateway_users",
        sa.column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    op.execute(
        users.update()
        .where(users.c.expires_at.is_(None), users.c.revoked_at.is_(None))
        .values(expires_at=datetime.now(UTC) + LEGACY_LIFETIME)
    )


def downgrade() -> None:
    with op.batch_alter_table("gateway_users", schema=None) as batch_op:
        batch_op.drop_column("rotated_at")
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
