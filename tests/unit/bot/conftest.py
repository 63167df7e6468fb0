"""Fixtures of the Rasa-environment unit tests shared by several files."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture()
def recorded_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The week of tests/support/recorded_week.py in a SQLite store that the insights read
    (TRACKER_STORE_URL), and an actions database without hand-off requests (DATABASE_URL)."""
    from tests.support.recorded_week import record_week  # imports Rasa: only when used

    path = tmp_path / "conversations.db"
    monkeypatch.setenv("TRACKER_STORE_URL", record_week(path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no-handoffs.db'}")
    return path
