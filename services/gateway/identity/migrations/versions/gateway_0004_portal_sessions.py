"""portal sign-in links and sessions

Revision ID: gateway_0004
Revises: gateway_0003
Create Date: 2026-11-30 22:10:00

Both tables hold hashes only (sha256 of the link's token, of the session's id), like tokens.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "gateway_0004"
down_revision: str | Sequence[str] | None = "gateway_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString
UTCDateTime = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "gateway_signin_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_sha256", AutoString(length=64), nullable=False),
        sa.Column("user_name", AutoString(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("gateway_signin_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_signin_links_link_sha256"), ["link_sha256"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_signin_links_user_name"), ["user_name"], unique=False
        )
    op.create_table(
        "gateway_portal_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_sha256", AutoString(length=64), nullable=False),
        sa.Column("user_name", AutoString(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", AutoString(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("gateway_portal_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_portal_sessions_session_sha256"),
            ["session_sha256"],
            unique=True,
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_portal_sessions_user_name"), ["user_name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("gateway_portal_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_portal_sessions_user_name"))
        batch_op.drop_index(batch_op.f("ix_gateway_portal_sessions_session_sha256"))
    op.drop_table("gateway_portal_sessions")
    with op.batch_alter_table("gateway_signin_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_signin_links_user_name"))
        batch_op.drop_index(batch_op.f("ix_gateway_signin_links_link_sha256"))
    op.drop_table("gateway_signin_links")
