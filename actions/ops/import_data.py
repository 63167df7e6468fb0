"""Import data/kb/*.csv into the knowledge-base database and regenerate data/nlu/lookups.yml.

Runs with the action-server environment (never imports rasa):

    .venv-actions/bin/python -m bot.ops.import_data [--database-url URL] [--data-dir data/kb]
    .venv-actions/bin/python -m bot.ops.import_data --check-lookups

Steps: validate every CSV row (a bad row prints ``file:line: what is wrong``; nothing is
imported), run ``alembic upgrade head``, synchronise the database in ONE transaction
(insert / update / delete, idempotent: a second run prints "0 changes"), then write the
lookup tables. Exit codes: 0 ok, 1 invalid data or stale lookups, 2 database error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from actions.db.engine import (
    REPO_ROOT,
    create_engine,
    create_sessionmaker,
    database_url,
    safe_url,
)
from actions.db.loader import DataValidationError, KnowledgeBase, load_knowledge_base
from actions.db.lookups import build_lookups, build_names
from actions.db.sync import ChangeReport, sync_knowledge_base

ALEMBIC_INI = REPO_ROOT / "actions" / "db" / "alembic.ini"
DEFAULT_DATA_DIR = REPO_ROOT / "data" / "kb"
DEFAULT_LOOKUPS = REPO_ROOT / "data" / "nlu" / "lookups.yml"
# Names recognised by the NLU at run time (bot/nlu/kb_entities.py reads the same default).
DEFAULT_NAMES = Path(os.environ.get("KB_NAMES_FILE") or REPO_ROOT / "var" / "kb_names.json")


def alembic_config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def _upgrade(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def import_knowledge_base(kb: KnowledgeBase, url: Optional[str] = None) -> ChangeReport:
    """Migrate the database to head and synchronise it with ``kb`` in one transaction."""
    resolved = database_url(url)
    engine = create_engine(resolved)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, resolved)
        async with create_sessionmaker(engine)() as session:  # one session, one transaction
            async with session.begin():
                return await sync_knowledge_base(session, kb)
    finally:
        await engine.dispose()


def write_lookups(kb: KnowledgeBase, path: Path) -> bool:
    """Write the lookup file; return True when its content changed."""
    text = build_lookups(kb)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def write_names(kb: KnowledgeBase, path: Path) -> None:
    """Write the names file atomically: a running assistant may be reading it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(build_names(kb), ensure_ascii=False, indent=0), encoding="utf-8")
    os.replace(tmp, path)


def lookups_are_fresh(kb: KnowledgeBase, path: Path) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == build_lookups(kb)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.ops.import_data", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--database-url", help="default: $DATABASE_URL or sqlite var/urbact.db")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--lookups", type=Path, default=DEFAULT_LOOKUPS, help="lookup file to write")
    parser.add_argument(
        "--check-lookups",
        action="store_true",
        help="only check that the lookup file matches data/kb (exit 1 when stale); no database",
    )
    parser.add_argument("--names", type=Path, default=DEFAULT_NAMES, help="names file for the NLU")
    parser.add_argument("--verbose", "-v", action="store_true", help="list changed keys")
    args = parser.parse_args(argv)

    try:
        kb = load_knowledge_base(args.data_dir)
    except DataValidationError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(
            f"import aborted: {len(exc.errors)} error(s) in {_display(args.data_dir)}; "
            "nothing was imported",
            file=sys.stderr,
        )
        return 1

    if args.check_lookups:
        if lookups_are_fresh(kb, args.lookups):
            print(f"{_display(args.lookups)} is up to date")
            return 0
        print(
            f"{_display(args.lookups)} is stale: run `python -m bot.ops.import_data` to regenerate it",
            file=sys.stderr,
        )
        return 1

    url = database_url(args.database_url)
    print(
        f"knowledge base: {len(kb.networks)} networks, {len(kb.cities)} cities, "
        f"{len(kb.memberships)} memberships, {len(kb.themes)} themes, {len(kb.calls)} calls, "
        f"{len(kb.contact_points)} contact points -> {safe_url(url)}"
    )
    try:
        report = asyncio.run(import_knowledge_base(kb, url))
    except Exception as exc:  # the transaction was rolled back
        print(f"database error, nothing was imported: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    for line in report.lines(verbose=args.verbose):
        print(line)
    changed = write_lookups(kb, args.lookups)
    print(f"{_display(args.lookups)}: {'updated' if changed else 'unchanged'}")
    write_names(kb, args.names)
    print(f"{_display(args.names)}: written (recognised by a running assistant within seconds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
