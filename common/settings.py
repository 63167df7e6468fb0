"""Every environment variable of the project, declared once: name, default, check, meaning.

Both environments read their settings here (this module needs only the standard library).
A value that is missing or blank gives the default. A value that fails its check gives the
default too, with one warning naming the variable (``read``), or stops an operator command
with a French message (``require``). ``python -m common.settings`` prints the table.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Callable, Generic, Mapping, Optional, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")
Environ = Optional[Mapping[str, str]]


class SettingError(ValueError):
    """A value that fails its check; the message is French, for the operator."""


@dataclass(frozen=True)
class Setting(Generic[T]):
    name: str
    default: T
    parse: Callable[[str], T]
    meaning: str
    secret: bool = False

    def raw(self, env: Environ = None) -> str:
        return (os.environ if env is None else env).get(self.name, "").strip()

    def is_set(self, env: Environ = None) -> bool:
        return bool(self.raw(env))

    def require(self, env: Environ = None) -> T:
        """The value, or SettingError (French) when it fails its check."""
        raw = self.raw(env)
        if not raw:
            return self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise SettingError(f"{self.name} : {exc}") from None

    def read(self, env: Environ = None) -> T:
        """The value, or the default with a warning when it fails its check."""
        try:
            return self.require(env)
        except SettingError as exc:
            logger.warning("setting %s ignored (%s); using the default %r",
                           self.name, str(exc).split(" : ", 1)[-1],
                           "***" if self.secret else self.default)
            return self.default


def number(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"nombre attendu (reçu : {raw[:20]!r})") from None
        if not (low < value if low_open else low <= value) or value > high:
            bound = f"plus de {low:g}" if low_open else f"au moins {low:g}"
            raise ValueError(f"doit valoir {bound} et au plus {high:g}")
        return value
    return parse


def whole(low: int, high: int = 10**9) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"nombre entier attendu (reçu : {raw[:20]!r})") from None
        if not low <= value <= high:
            raise ValueError(f"doit valoir au moins {low} et au plus {high}")
        return value
    return parse


def switch(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"on", "1", "true", "yes", "oui"}:
        return True
    if lowered in {"off", "0", "false", "no", "non"}:
        return False
    raise ValueError(f"on ou off attendu (reçu : {raw[:20]!r})")


def text(raw: str) -> str:
    return raw


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.lower() not in choices:
            raise ValueError(f"{' ou '.join(choices)} attendu (reçu : {raw[:20]!r})")
        return raw.lower()
    return parse


def names(raw: str) -> frozenset[str]:
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


# --- Action server and knowledge base (actions environment) ---------------------------
DATABASE_URL = Setting("DATABASE_URL", "", text, "knowledge base and hand-off database (default: SQLite in var/)", secret=True)
DB_TIMEOUT_SECONDS = Setting("DB_TIMEOUT_SECONDS", 2.0, number(0, 60, low_open=True), "deadline of one database call")
CATALOGUE_TTL_SECONDS = Setting("CATALOGUE_TTL_SECONDS", 300.0, number(0, 86400), "how long the actions keep the names of the knowledge base")
KB_NAMES_FILE = Setting("KB_NAMES_FILE", "", text, "names file written by the importer, read by the NLU (default: var/kb_names.json)")
ACTIONS_HOST = Setting("ACTIONS_HOST", "127.0.0.1", text, "interface the action server listens on")
ACTION_SERVER_TOKEN = Setting("ACTION_SERVER_TOKEN", "", text, "secret Rasa sends to the action server", secret=True)

# --- Hand-off to the contact point ----------------------------------------------------
SLACK_TOKEN = Setting("SLACK_TOKEN", "", text, "bot token for Slack", secret=True)
SLACK_STAFF_CHANNEL = Setting("SLACK_STAFF_CHANNEL", "", text, "staff channel receiving hand-off requests")
SLACK_STAFF_USER_IDS: Setting[frozenset[str]] = Setting("SLACK_STAFF_USER_IDS", frozenset(), names, "Slack user ids allowed to use staff commands (comma-separated)")
SLACK_API_BASE_URL = Setting("SLACK_API_BASE_URL", "https://slack.com/api/", text, "Slack Web API address (tests point it at a stand-in)")
HANDOFF_SLACK_TIMEOUT_SECONDS = Setting("HANDOFF_SLACK_TIMEOUT_SECONDS", 8.0, number(0, 60, low_open=True), "deadline of one Slack call")
HANDOFF_DELIVERY_LOOP = Setting("HANDOFF_DELIVERY_LOOP", True, switch, "deliver hand-off requests from the action server (off: by cron)")
HANDOFF_DELIVERY_INTERVAL_SECONDS = Setting("HANDOFF_DELIVERY_INTERVAL_SECONDS", 30.0, number(0.05, 3600), "pause between two delivery rounds")
HANDOFF_RETRY_BASE_SECONDS = Setting("HANDOFF_RETRY_BASE_SECONDS", 30.0, number(0.1, 3600), "first pause before retrying a failed delivery")
HANDOFF_RETRY_MAX_SECONDS = Setting("HANDOFF_RETRY_MAX_SECONDS", 900.0, number(0.1, 86400), "longest pause between two retries")
HANDOFF_MAX_PER_CONVERSATION_PER_DAY = Setting("HANDOFF_MAX_PER_CONVERSATION_PER_DAY", 3, whole(0), "hand-off requests per conversation in 24 h (0: no limit)")
HANDOFF_MAX_PER_EMAIL_PER_DAY = Setting("HANDOFF_MAX_PER_EMAIL_PER_DAY", 3, whole(0), "hand-off requests per e-mail address in 24 h (0: no limit)")
HANDOFF_RETENTION_DAYS = Setting("HANDOFF_RETENTION_DAYS", 180, whole(0), "days a handled hand-off request is kept")
CONVERSATION_RETENTION_DAYS = Setting("CONVERSATION_RETENTION_DAYS", 90, whole(1), "days a conversation is kept after its last message")

# --- Rasa and its channels (Rasa environment) -----------------------------------------
MAX_REQUEST_BYTES = Setting("MAX_REQUEST_BYTES", 256 * 1024, whole(1024), "largest request body a channel accepts")
METADATA_MAX_CHARS = Setting("METADATA_MAX_CHARS", 4000, whole(2), "largest message metadata, in characters of JSON")
METADATA_MAX_DEPTH = Setting("METADATA_MAX_DEPTH", 8, whole(1), "deepest nesting of message metadata")
RATE_LIMIT_PER_CONVERSATION = Setting("RATE_LIMIT_PER_CONVERSATION", 20, whole(0), "messages per conversation per minute (0: no limit)")
NGINX_RATE_PER_ADDRESS = Setting("NGINX_RATE_PER_ADDRESS", 20, whole(0, 100000), "requests per second per client address accepted by nginx in make run-production (0: no limit)")
RATE_LIMIT_PER_ADDRESS = Setting("RATE_LIMIT_PER_ADDRESS", 60, whole(0), "messages per client address per minute (0: no limit)")
WEB_ALLOWED_ORIGINS = Setting("WEB_ALLOWED_ORIGINS", "", text, "web pages allowed to open the chat widget (comma-separated origins)")
WEB_SESSION_SECRET = Setting("WEB_SESSION_SECRET", "", text, "key signing the website's chat sessions (32 characters or more)", secret=True)
INSIGHTS_TOKEN = Setting("INSIGHTS_TOKEN", "", text, "staff password of the /insights/ page (HTTP Basic, any user name; unset: page off)", secret=True)
TRACKER_STORE_URL = Setting("TRACKER_STORE_URL", "", text, "conversation store read by the purge commands and make insights (default: TRACKER_DB_*, else var/conversations.db)", secret=True)
TRACKER_DB_HOST = Setting("TRACKER_DB_HOST", "", text, "production conversation store: host")
TRACKER_DB_PORT = Setting("TRACKER_DB_PORT", 0, whole(1, 65535), "production conversation store: port")
TRACKER_DB_USER = Setting("TRACKER_DB_USER", "", text, "production conversation store: user")
TRACKER_DB_PASSWORD = Setting("TRACKER_DB_PASSWORD", "", text, "production conversation store: password", secret=True)
TRACKER_DB_NAME = Setting("TRACKER_DB_NAME", "rasa", text, "production conversation store: database")
SHARED_REDIS_URL = Setting("SHARED_REDIS_URL", "", text, "Redis shared by several Rasa instances: website chat rooms, Slack replay/duplicate memory, rate limits (unset: one process's memory); requires WEB_SESSION_SECRET", secret=True)

# --- Production topology (make run-production) ----------------------------------------
RASA_INSTANCES = Setting("RASA_INSTANCES", 2, whole(1, 8), "Rasa instances behind nginx in make run-production")
ACTIONS_WORKERS = Setting("ACTIONS_WORKERS", 2, whole(1, 16), "action server worker processes in make run-production")
LOG_FORMAT = Setting("LOG_FORMAT", "text", one_of("text", "json"), "log lines as plain text or as JSON objects (json)")

ALL: tuple[Setting, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Setting))


def main() -> None:
    for setting in ALL:
        default = "(secret)" if setting.secret else repr(setting.default)
        print(f"{setting.name:40} {default:28} {setting.meaning}")


if __name__ == "__main__":
    main()
