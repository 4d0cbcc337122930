"""one index for a base's timeline instead of three, none on the cycles' stage and region

Every event writes a timeline row and rewrites its cycle's row; each index is another B-tree to
update. The queries read one program year (the cycles' key prefix) or one base's timeline.

Revision ID: dashboard_0003
Revises: dashboard_0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "dashboard_0003"
down_revision: str | Sequence[str] | None = "dashboard_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dashboard_timeline") as batch:
        for column in ("year", "program", "base"):
            batch.drop_index(f"ix_dashboard_timeline_{column}")
        batch.create_index(
            "ix_dashboard_timeline_base_events", ["program", "year", "base", "stream_seq"]
        )
    with op.batch_alter_table("dashboard_cycles") as batch:
        batch.drop_index("ix_dashboard_cycles_stage")
        batch.drop_index("ix_dashboard_cycles_region")


def downgrade() -> None:
    with op.batch_alter_table("dashboard_cycles") as batch:
        batch.create_index("ix_dashboard_cycles_region", ["region"])
        batch.create_index("ix_dashboard_cycles_stage", ["stage"])
    with op.batch_alter_table("dashboard_timeline") as batch:
        batch.drop_index("ix_dashboard_timeline_base_events")
        for column in ("base", "program", "year"):
            batch.create_index(f"ix_dashboard_timeline_{column}", [column])
