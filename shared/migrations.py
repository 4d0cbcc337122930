"""Alembic migrations, one script folder per service and one version table each, so services
can share a PostgreSQL database and still evolve their own tables independently."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlmodel import SQLModel

from shared.settings import REPO_ROOT

# service -> (module holding TABLES, table-name prefix)
SERVICES = {
    "registry": ("services.registry.tables", "registry_"),
    "filings": ("services.filings.tables", "filings_"),
    "assessment": ("services.assessment.tables", "assessment_"),
    "notifier": ("services.notifier.tables", "notifier_"),
    "dashboard": ("services.dashboard.tables", "dashboard_"),
    "gateway": ("services.gateway.identity.tables", "gateway_"),
}


def script_location(service: str) -> Path:
    package = SERVICES[service][0].rsplit(".", 1)[0]
    return REPO_ROOT / Path(*package.split(".")) / "migrations"


def config(service: str, engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location(service)))
    cfg.attributes["engine"] = engine
    cfg.attributes["service"] = service
    return cfg


def upgrade(engine: Engine, service: str, revision: str = "head") -> None:
    command.upgrade(config(service, engine), revision)


def run_env(context: object) -> None:
    """The body of every service's ``env.py``."""
    cfg = context.config  # type: ignore[attr-defined]
    service = cfg.attributes["service"]
    module, prefix = SERVICES[service]
    import_module(module)
    engine: Engine = cfg.attributes["engine"]

    def include(
        obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        return type_ != "table" or bool(name and name.startswith(prefix))

    with engine.connect() as connection:
        context.configure(  # type: ignore[attr-defined]
            connection=connection,
            target_metadata=SQLModel.metadata,
            version_table=f"alembic_version_{service}",
            include_object=include,
            render_as_batch=True,
        )
        with context.begin_transaction():  # type: ignore[attr-defined]
            context.run_migrations()  # type: ignore[attr-defined]
        connection.commit()
