"""The weekly digest command (cron) against the Slack stand-in and a real recorded store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ops import insights_digest
from tests.support.recorded_week import EMAIL
from tests.support.slack_standin import SlackStandIn, standin_fixture

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "test-digest-token"
STAFF_CHANNEL = "C0STAFF"


slack_api = standin_fixture(TOKEN)


@pytest.fixture()
def slack_env(slack_api: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> SlackStandIn:
    slack_api.reset()
    monkeypatch.setenv("SLACK_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_STAFF_CHANNEL", "#" + STAFF_CHANNEL)
    monkeypatch.setenv("SLACK_API_BASE_URL", slack_api.base_url.rstrip("/"))
    return slack_api


def test_digest_posts_figures_and_chart_to_the_staff_channel(
    slack_env: SlackStandIn, recorded_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert insights_digest.main([]) == insights_digest.POSTED
    [uploaded] = slack_env.files
    assert uploaded.channel == STAFF_CHANNEL and uploaded.thread_ts is None
    assert uploaded.data.startswith(b"\x89PNG")
    assert "2 conversations, 3 messages des visiteurs" in uploaded.initial_comment
    assert EMAIL not in uploaded.initial_comment
    assert "posté dans C0STAFF" in capsys.readouterr().out


def test_digest_of_a_past_week_is_empty(slack_env: SlackStandIn, recorded_store: Path) -> None:
    assert insights_digest.main(["--until", "2020-01-07"]) == insights_digest.POSTED
    [uploaded] = slack_env.files
    assert uploaded.initial_comment.startswith("*Statistiques du 01/01/2020 au 07/01/2020*")
    assert "0 conversation, 0 message des visiteurs" in uploaded.initial_comment


@pytest.mark.parametrize("unset", ["SLACK_TOKEN", "SLACK_STAFF_CHANNEL"])
def test_without_slack_configuration_nothing_is_read_or_sent(
    slack_env: SlackStandIn, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], unset: str
) -> None:
    monkeypatch.delenv(unset)
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://urbact@127.0.0.1:1/absente")  # never read
    assert insights_digest.main([]) == insights_digest.NOT_CONFIGURED
    assert f"Slack n'est pas configuré ({unset} absente(s))" in capsys.readouterr().err
    assert slack_env.calls() == []


def test_unreadable_store_exits_3_in_french(
    slack_env: SlackStandIn, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://urbact:motdepasse@127.0.0.1:1/absente")
    assert insights_digest.main([]) == insights_digest.STORE_UNREADABLE
    err = capsys.readouterr().err
    assert "les conversations enregistrées n'ont pas pu être lues" in err and "motdepasse" not in err
    assert slack_env.calls() == []


def test_slack_failure_exits_4_in_french(
    slack_env: SlackStandIn, recorded_store: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SLACK_TOKEN", "jeton-refuse")
    assert insights_digest.main([]) == insights_digest.SLACK_FAILED
    assert "Slack n'a pas accepté l'envoi dans C0STAFF : invalid_auth" in capsys.readouterr().err
    slack_env.available = False
    monkeypatch.setenv("SLACK_TOKEN", TOKEN)
    assert insights_digest.main([]) == insights_digest.SLACK_FAILED
    assert slack_env.files == []


def test_command_line_exit_code_without_configuration() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLACK_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-m", "bot.ops.insights_digest"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Résumé non envoyé : Slack n'est pas configuré (SLACK_TOKEN, SLACK_STAFF_CHANNEL absente(s))" in done.stderr
