"""End to end: Rasa started as `make run` starts it (python -m bot.start) prints no known
third-party deprecation warning (bot/start.py filters them; ours would still show)."""

from __future__ import annotations

from typing import Any


def test_rasa_starts_without_third_party_deprecation_warnings(assistant: Any) -> None:
    log = (assistant.process.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    noisy = [line for line in log.splitlines() if "DeprecationWarning" in line or "MovedIn20Warning" in line]
    assert noisy == [], "\n".join(noisy[:20])
