"""The insights report for the contact-point staff, at /insights/ on Rasa's own web server.

Registered in credentials.yml as `bot.channels.insights_page.InsightsPageInput` (Rasa 3.6
lets an input channel add routes; this one receives no messages). It serves what
`make insights` wrote in results/insights/: the page (/insights/), its charts
(/insights/<chart>.png) and summary.json.

- Staff only: HTTP Basic authentication, any user name, the password is INSIGHTS_TOKEN
  (compared in constant time); otherwise 401 with a WWW-Authenticate challenge.
- INSIGHTS_TOKEN unset: the feature is off, every address answers 404 (one log line at start).
- Only the files directly in results/insights/ with a known suffix are served, never a path
  outside it; every answer carries Cache-Control: no-store (figures of a private report).
- The page is not regenerated here: `make insights` (by hand or cron, docs/slack.md) writes
  it. Building the report reads every event of the period (seconds of CPU on a large store):
  the Rasa process keeps its cores for conversations, and a page written for a chosen
  period (SINCE=/UNTIL=) is not overwritten behind the staff's back.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
from http import HTTPStatus
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common import settings

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = ROOT / "results" / "insights"
REALM = 'Basic realm="Rapport URBACT", charset="UTF-8"'
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".json": "application/json",
}
SERVED_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}\.(?:png|json|html)$")
NOT_WRITTEN = (
    "Le rapport n'a pas encore été produit : lancez « make insights » sur le serveur."
)
AUTH_REQUIRED = "Authentification requise : le mot de passe est le jeton de l'équipe."


def password_of(authorization: Optional[str]) -> Optional[bytes]:
    """The password of an HTTP Basic Authorization header, None when there is none."""
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    _, colon, password = decoded.partition(b":")
    return password if colon else None


def token_matches(authorization: Optional[str], token: str) -> bool:
    password = password_of(authorization)
    # compare_digest on equal types; a missing password is compared too (same cost).
    return hmac.compare_digest(password or b"", token.encode()) and password is not None


def report_file(report_dir: Path, name: str) -> Optional[Path]:
    """The file `name` directly inside `report_dir`, or None (unknown name, outside, missing)."""
    if not SERVED_NAME.match(name):
        return None
    base = report_dir.resolve()
    path = (base / name).resolve()
    if path.parent != base or not path.is_file():
        return None
    return path


class InsightsPageInput(InputChannel):
    """Serves results/insights/ to the staff at /insights/ (no conversation goes through it)."""

    @classmethod
    def name(cls) -> Text:
        return "insights_page"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "InsightsPageInput":
        """Option `report_dir` (relative to the repository; tests): default results/insights."""
        folder = (credentials or {}).get("report_dir")
        return cls(token=settings.INSIGHTS_TOKEN.read(), report_dir=ROOT / folder if folder else REPORT_DIR)

    def __init__(self, token: str = "", report_dir: Path = REPORT_DIR) -> None:
        self.token = token
        self.report_dir = report_dir
        if token:
            logger.info("insights page: on at /insights/ (files of %s)", report_dir)
        else:
            logger.info("insights page: off (INSIGHTS_TOKEN unset): /insights/ answers 404")

    def url_prefix(self) -> Text:
        # Absolute: Rasa joins it to "/webhooks/", which gives "/insights".
        return "/insights"

    def _serve(self, request: Request, name: str) -> HTTPResponse:
        if not self.token:
            return response.text("Not Found", status=HTTPStatus.NOT_FOUND, headers=NO_STORE)
        if not token_matches(request.headers.get("authorization"), self.token):
            logger.warning("insights page: refused a request without the staff token")
            headers = {**NO_STORE, "WWW-Authenticate": REALM}
            return response.text(AUTH_REQUIRED, status=HTTPStatus.UNAUTHORIZED, headers=headers)
        path = report_file(self.report_dir, name)
        if path is None:
            text = NOT_WRITTEN if name == "index.html" else "Fichier inconnu."
            return response.text(text, status=HTTPStatus.NOT_FOUND, headers=NO_STORE)
        return response.raw(
            path.read_bytes(), content_type=CONTENT_TYPES[path.suffix], headers=NO_STORE
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        page = Blueprint("urbact_insights_page", __name__)

        @page.route("/", methods=["GET"], strict_slashes=False)
        async def index(request: Request) -> HTTPResponse:
            return self._serve(request, "index.html")

        @page.route("/<name:str>", methods=["GET"])
        async def report_part(request: Request, name: str) -> HTTPResponse:
            return self._serve(request, name or "index.html")  # "/insights/" may land here

        return page
