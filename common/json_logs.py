"""Log lines as JSON objects, one per line, when LOG_FORMAT=json (both environments).

A log collector reads these lines without parsing free text: each line is one JSON object
with `time` (UTC, ISO 8601), `level`, `logger`, `message` and, when there is one,
`exception` (the formatted traceback). The logging configuration lives in
bot/ops/logging-json.yml, written as JSON (valid YAML too): Rasa reads it with
`--logging-config-file` (a YAML reader), the action server with the standard library.
This module needs only the standard library: both environments import it.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from common import settings

CONFIG_FILE = Path(__file__).resolve().parents[1] / "bot" / "ops" / "logging-json.yml"


def json_logs_wanted(environ: Optional[Mapping[str, str]] = None) -> bool:
    """True when LOG_FORMAT asks for JSON log lines."""
    return settings.LOG_FORMAT.read(environ) == "json"


def logging_config_args(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """The arguments of `python -m bot.start run` that switch Rasa to JSON log lines."""
    if not json_logs_wanted(environ):
        return []
    return ["--logging-config-file", str(CONFIG_FILE)]


def logging_config() -> Dict[str, Any]:
    """The logging configuration (a `logging.config.dictConfig` dictionary)."""
    loaded: Dict[str, Any] = json.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    return loaded


def apply_json_logging() -> None:
    """Send every log line, Python warnings included, through the JSON formatter.

    Applied again after a library installs its own handler (Rasa's coloured logs):
    dictConfig replaces the root logger's handlers."""
    logging.config.dictConfig(logging_config())
    logging.captureWarnings(True)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: Dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
