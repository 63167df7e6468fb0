"""bot/start.py: Rasa starts with our fixes and without the known third-party warnings."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.common import configure_logging_and_warnings

from bot import rasa_fixes, start
from tests.conftest import REPO_ROOT


def warned_from(module: str, category: type = DeprecationWarning) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start.quiet_known_warnings()
        warnings.warn_explicit("old API", category, f"{module}.py", 1, module=module)
    return caught


def test_known_third_party_deprecations_are_hidden() -> None:
    for module in ("sqlalchemy.orm", "rasa.core.tracker_store", "apscheduler", "pkg_resources",
                   "tensorflow.lite.python.util", "sanic_cors.extension", "matplotlib.fontconfig_pattern",
                   "packaging.requirements"):
        assert warned_from(module) == [], module
    assert warned_from("keras", PendingDeprecationWarning) == []


def test_our_warnings_and_other_kinds_still_show() -> None:
    assert len(warned_from("bot.channels.rest")) == 1
    assert len(warned_from("actions.handoff")) == 1
    assert len(warned_from("rasa_like_but_not_rasa")) == 1
    assert len(warned_from("sqlalchemy", UserWarning)) == 1


def test_the_filters_go_first_again_once_rasa_has_set_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    class ParserDeprecation(UserWarning, DeprecationWarning):  # as pyparsing's: a UserWarning too
        pass

    monkeypatch.setenv("LOG_LEVEL", "INFO")  # Rasa writes it: restored after the test
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start.quiet_known_warnings()
        configure_logging_and_warnings(logging.INFO, None, warn_only_once=True, filter_repeated_logs=False)
        start._QuietAgainAfterRasa().configure_commandline(None)  # Rasa's CLI calls it next
        warnings.warn_explicit("old API", ParserDeprecation, "m.py", 1, module="matplotlib.fontconfig_pattern")
    assert caught == []


def test_prepare_applies_the_fixes() -> None:
    start.prepare()
    assert RemoteAction._validate_action_result is rasa_fixes._validate_action_result


def test_rasa_starts_through_it_without_deprecation_warnings() -> None:
    # as from a shell: importing Rasa in this process set TF_CPP_MIN_LOG_LEVEL to 1
    env = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.start", "--version"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "3.6.21" in done.stdout
    assert "Warning" not in done.stderr, done.stderr
