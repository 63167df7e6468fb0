"""Import data/kb/*.csv into the knowledge-base database and regenerate data/nlu/lookups.yml.

Runs with the action-server environment (never imports rasa):

    .venv-actions/bin/python -m actions.ops.import_data [--database-url URL] [--data-dir data/kb]
    .venv-actions/bin/python -m actions.ops.import_data --check-lookups

Steps: validate every CSV row (a bad row prints ``file:line: what is wrong``; nothing is
imported), run ``alembic upgrade head``, synchronise the database in ONE transaction
(insert / update / delete, idempotent: a second run prints "0 changes"), then write the
lookup tables. Exit codes: 0 ok, 1 invalid data or stale lookups, 2 database error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Optional, Sequence

from actions.db.engine import REPO_ROOT, database_url, safe_url
from actions.kb.loader import DataValidationError, load_knowledge_base
from actions.kb.lookups import lookups_are_fresh, names_file, write_lookups, write_names
from actions.kb.sync import import_knowledge_base

DEFAULT_DATA_DIR = REPO_ROOT / "data" / "kb"
DEFAULT_LOOKUPS = REPO_ROOT / "data" / "nlu" / "lookups.yml"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m actions.ops.import_data", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--database-url", help="default: $DATABASE_URL or sqlite var/urbact.db")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--lookups", type=Path, default=DEFAULT_LOOKUPS, help="lookup file to write")
    parser.add_argument(
        "--check-lookups",
        action="store_true",
        help="only check that the lookup file matches data/kb (exit 1 when stale); no database",
    )
    parser.add_argument("--names", type=Path, default=names_file(), help="names file for the NLU")
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
            f"{_display(args.lookups)} is stale: run `python -m actions.ops.import_data` to regenerate it",
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
