"""A whole assistant (bot/ops/launcher.py) that records its conversations in a SQLite
tracker store of its own, for tests that read the recorded events back."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import yaml

from bot.ops.launcher import ROOT, Assistant


def recording_endpoints(folder: Path, events_db: Path) -> Path:
    """endpoints.yml with a SQLite tracker store at `events_db`, written into `folder`."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {}
    endpoints["tracker_store"] = {"type": "SQL", "dialect": "sqlite", "db": str(events_db)}
    path = folder / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


@contextlib.contextmanager
def recording_assistant(
    model: Path, folder: Path, credentials: Optional[Dict[str, Any]] = None, start_timeout: float = 180.0
) -> Iterator[Assistant]:
    """The assistant running `model`, its events in folder/events.db, stopped on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    endpoints = recording_endpoints(folder, folder / "events.db")
    process = Assistant.launch(model=model, credentials=credentials, endpoints=endpoints)
    try:
        process.wait_ready(timeout=start_timeout)
        yield process
    finally:
        process.stop()
