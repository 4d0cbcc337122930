"""Alembic migrations, one script folder per service and one version table each, so services
can share a PostgreSQL database and still evolve their own tables independently.

The runner names no service: each service tells it what to migrate (its name, its migration
folder, its tables) with a :class:`ServiceMigrations` from its own ``tables.py``, and its
composition root runs ``upgrade(engine, MIGRATIONS)``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlmodel import SQLModel


@dataclass(frozen=True)
class ServiceMigrations:
    """What one service migrates: its tables (all named ``<service>_...``), the folder of its
    Alembic scripts, and its version table ``alembic_version_<service>``."""

    service: str
    folder: Path
    tables: Sequence[type[SQLModel]]

    @property
    def prefix(self) -> str:
        return f"{self.service}_"

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.service}"


def config(migrations: ServiceMigrations, engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations.folder))
    cfg.attributes["engine"] = engine
    cfg.attributes["migrations"] = migrations
    return cfg


def upgrade(engine: Engine, migrations: ServiceMigrations, revision: str = "head") -> None:
    command.upgrade(config(migrations, engine), revision)


def run_env(context: object) -> None:
    """The body of every service's ``env.py``."""
    cfg = context.config  # type: ignore[attr-defined]
    migrations: ServiceMigrations = cfg.attributes["migrations"]
    engine: Engine = cfg.attributes["engine"]
    prefix = migrations.prefix

    def include(
        obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        return type_ != "table" or bool(name and name.startswith(prefix))

    with engine.connect() as connection:
        context.configure(  # type: ignore[attr-defined]
            connection=connection,
            target_metadata=SQLModel.metadata,
            version_table=migrations.version_table,
            include_object=include,
            render_as_batch=True,
        )
        with context.begin_transaction():  # type: ignore[attr-defined]
            context.run_migrations()  # type: ignore[attr-defined]
        connection.commit()
