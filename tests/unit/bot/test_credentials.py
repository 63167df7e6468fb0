from __future__ import annotations

from pathlib import Path

import yaml

from bot.ops import credentials


def test_channels_with_unset_secrets_are_left_out(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "credentials.yml").write_text(
        "rest:\nslack:\n  slack_token: ${SLACK_TOKEN}\n  slack_signing_secret: ${SLACK_SIGNING_SECRET}\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("SLACK_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "x")
    written = yaml.safe_load(credentials.main(tmp_path).read_text(encoding="utf-8"))
    assert written == {"rest": None}
    assert "SLACK_TOKEN" in capsys.readouterr().err


def test_channels_with_all_secrets_are_kept(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "credentials.yml").write_text("slack:\n  slack_token: ${SLACK_TOKEN}\n", encoding="utf-8")
    monkeypatch.setenv("SLACK_TOKEN", "t")
    written = yaml.safe_load(credentials.main(tmp_path).read_text(encoding="utf-8"))
    assert written == {"slack": {"slack_token": "${SLACK_TOKEN}"}}
