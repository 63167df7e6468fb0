"""Alembic migrations run from Python: ``alembic upgrade head`` on a URL or an open connection."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from actions.db.engine import REPO_ROOT

ALEMBIC_INI = REPO_ROOT / "actions" / "db" / "alembic.ini"


def alembic_config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_to_head(connection: Connection, url: str) -> None:
    """Migrate the database of ``connection`` (a sync connection, e.g. from run_sync) to head."""
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
