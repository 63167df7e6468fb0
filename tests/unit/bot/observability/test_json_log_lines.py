"""common/json_logs.py: one JSON object per log line, and the switch that turns it on."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import rasa.shared.utils.io

from common import json_logs


def record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("bot.channels", logging.WARNING, __file__, 1, message, args, exc_info)  # type: ignore[arg-type]


def test_a_record_is_one_json_line_with_the_five_fields() -> None:
    line = json_logs.JsonFormatter().format(record("refused %s\nsecond line", "POST"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "bot.channels"
    assert entry["message"] == "refused POST\nsecond line"
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]
    assert "exception" not in entry


def test_the_exception_is_kept_as_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        line = json_logs.JsonFormatter().format(record("failed", exc_info=sys.exc_info()))
    entry = json.loads(line)
    assert entry["exception"].startswith("Traceback") and "ValueError: boom" in entry["exception"]


def test_the_switch_follows_log_format() -> None:
    assert json_logs.logging_config_args({}) == []
    assert json_logs.logging_config_args({"LOG_FORMAT": "text"}) == []
    args = json_logs.logging_config_args({"LOG_FORMAT": "JSON"})
    assert args == ["--logging-config-file", str(json_logs.CONFIG_FILE)]
    assert json_logs.CONFIG_FILE.is_absolute() and json_logs.CONFIG_FILE.is_file()
    assert json_logs.logging_config_args({"LOG_FORMAT": "xml"}) == []  # warned, default text


def test_rasa_reads_the_configuration_and_it_logs_json(monkeypatch: object) -> None:
    config = rasa.shared.utils.io.read_yaml_file(str(json_logs.CONFIG_FILE))
    assert config == json_logs.logging_config()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logging.config.dictConfig(config)
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("sanic.access").warning("GET /health 200")
        logging.getLogger("rasa.core").info("turn handled")
        lines = stream.getvalue().splitlines()
    finally:
        root.handlers[:], root.level = saved
    assert [json.loads(line)["message"] for line in lines] == ["GET /health 200", "turn handled"]


def test_start_recognises_the_json_configuration_only() -> None:
    from bot import start

    assert start.is_json_logging_config(str(json_logs.CONFIG_FILE))
    assert not start.is_json_logging_config(None)
    assert not start.is_json_logging_config("/etc/other-logging.yml")


def test_log_format_json_adds_the_configuration_unless_one_is_given() -> None:
    from bot import start

    served = ["run", "--model", "m.tar.gz"]
    assert start.with_log_format(served, {}) == served
    assert start.with_log_format(served, {"LOG_FORMAT": "json"}) == [*served, *json_logs.logging_config_args({"LOG_FORMAT": "json"})]
    own = [*served, "--logging-config-file", "/etc/mine.yml"]
    assert start.with_log_format(own, {"LOG_FORMAT": "json"}) == own
