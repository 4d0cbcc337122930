"""cycles tell what the latest 公示 says and their deadlines; program years' notices; objections

Every value of a cycle row keeps the key of the fact it came from, so events applied in any order
give the same row. Rows projected before this revision have empty keys and no notice values:
rebuild the projections (``navcycle dashboard rebuild``) after upgrading.

Revision ID: dashboard_0004
Revises: dashboard_0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "dashboard_0004"
down_revision: str | Sequence[str] | None = "dashboard_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("dashboard_cycles") as batch:
        for name in ("stage_key", "grade_key", "total_key"):
            batch.add_column(sa.Column(name, _TEXT(length=96), nullable=False, server_default=""))
        batch.add_column(sa.Column("notice", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("outcome", _TEXT(length=32), nullable=True))
        for name in ("reason_zh", "reason_en", "rank_reason_zh", "rank_reason_en"):
            batch.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("corrected", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("deadlines", sa.Text(), nullable=False, server_default="{}"))
    op.create_table(
        "dashboard_years",
        sa.Column("program", _TEXT(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("notice", sa.Integer(), nullable=False),
        sa.Column("kind", _TEXT(length=16), nullable=True),
        sa.Column("published_at", _TEXT(length=40), nullable=True),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("inline", sa.Boolean(), nullable=False),
        sa.Column("results_key", _TEXT(length=255), nullable=True),
        sa.Column("corrected", sa.Text(), nullable=False),
        sa.Column("publication_until", _TEXT(length=40), nullable=True),
        sa.Column("publication_last_day", _TEXT(length=10), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("publication_key", _TEXT(length=96), nullable=False),
        sa.Column("finalized_at", _TEXT(length=40), nullable=True),
        sa.PrimaryKeyConstraint("program", "year"),
    )
    op.create_table(
        "dashboard_objections",
        sa.Column("objection_id", _TEXT(length=64), nullable=False),
        sa.Column("program", _TEXT(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("base", _TEXT(length=64), nullable=False),
        sa.Column("role", _TEXT(length=32), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("received_at", _TEXT(length=40), nullable=True),
        sa.Column("status", _TEXT(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", _TEXT(length=128), nullable=False),
        sa.Column("decided_at", _TEXT(length=40), nullable=True),
        sa.PrimaryKeyConstraint("objection_id"),
    )
    op.create_index(
        "ix_dashboard_objections_year", "dashboard_objections", ["program", "year", "base"]
    )


def downgrade() -> None:
    op.drop_index("ix_dashboard_objections_year", table_name="dashboard_objections")
    op.drop_table("dashboard_objections")
    op.drop_table("dashboard_years")
    with op.batch_alter_table("dashboard_cycles") as batch:
        for name in (
            "deadlines",
            "corrected",
            "rank_reason_en",
            "rank_reason_zh",
            "reason_en",
            "reason_zh",
            "outcome",
            "notice",
            "total_key",
            "grade_key",
            "stage_key",
        ):
            batch.drop_column(name)
