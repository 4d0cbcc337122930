"""cycles know when they entered their stage, and one index reads a stage's cycles of a region
in that order (the officers' queue, a page at a time)

``stage_since`` is the time of the event that set the stage, which ``stage_key`` already holds
(``e|<time>|<sequence>|<id>``): the rows projected before this revision take it from there.

Revision ID: dashboard_0005
Revises: dashboard_0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "dashboard_0005"
down_revision: str | Sequence[str] | None = "dashboard_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
INDEX = "ix_dashboard_cycles_stage_queue"


def upgrade() -> None:
    with op.batch_alter_table("dashboard_cycles") as batch:
        batch.add_column(
            sa.Column("stage_since", _TEXT(length=26), nullable=False, server_default="")
        )
    # The time between the key's first two bars (substr: on SQLite and PostgreSQL alike).
    op.execute(
        "UPDATE dashboard_cycles SET stage_since = substr(stage_key, 3, 26)"
        " WHERE stage_key LIKE 'e|%'"
    )
    op.create_index(
        INDEX, "dashboard_cycles", ["program", "year", "stage", "region", "stage_since"]
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="dashboard_cycles")
    with op.batch_alter_table("dashboard_cycles") as batch:
        batch.drop_column("stage_since")
