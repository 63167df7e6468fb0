"""Which web pages may open the website chat: the allow-list of origins and its check.

The allow-list comes from WEB_ALLOWED_ORIGINS or, when unset, ``cors_allowed_origins`` in
credentials.yml; "*" and anything that is not an origin are refused at start-up. Pages this
very server serves on localhost are always allowed.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Iterable, List, Mapping, Optional
from urllib.parse import urlsplit

from common import settings
from common.settings import Environ

logger = logging.getLogger(__name__)

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_ORIGIN = re.compile(
    r"^https?://[a-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9a-f:]+\](:[0-9]{1,5})?$"
)


class OriginConfigError(ValueError):
    """The allow-list of origins is unusable; Rasa must not start with it."""


def parse_allowed_origins(value: Any) -> Optional[List[str]]:
    """Normalise a configured allow-list of origins.

    Accepts a list of strings or one string of origins separated by commas or spaces.
    Returns None when nothing is configured (then only the server's own pages on
    localhost may connect). Raises OriginConfigError for "*" or anything that is not an origin
    (scheme://host[:port], no path), so a typo never opens the channel to everyone.
    """
    if value is None:
        return None
    if isinstance(value, str):
        items: Iterable[Any] = re.split(r"[\s,]+", value)
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise OriginConfigError(f"cors_allowed_origins must be a list, not {type(value).__name__}")
    origins: List[str] = []
    for item in items:
        if not isinstance(item, str):
            raise OriginConfigError(f"invalid origin {item!r}: not a string")
        origin = item.strip().rstrip("/").lower()
        if not origin:
            continue
        if origin == "*" or "*" in origin:
            raise OriginConfigError(
                "cors_allowed_origins must not contain '*': "
                "list the sites allowed to embed the chat"
            )
        if not _ORIGIN.match(origin):
            raise OriginConfigError(
                f"invalid origin {item!r}: "
                "expected scheme://host[:port], e.g. https://www.example.org"
            )
        if origin not in origins:
            origins.append(origin)
    return origins or None


def allowed_origins_from(configured: Any, environ: Environ = None) -> Optional[List[str]]:
    """The allow-list in force: WEB_ALLOWED_ORIGINS wins over credentials.yml."""
    override = settings.WEB_ALLOWED_ORIGINS.read(environ)
    if override:
        return parse_allowed_origins(override)
    return parse_allowed_origins(configured)


def same_origin_localhost(origin: str, environ: Mapping[str, Any]) -> bool:
    """True for a page served by this server on localhost (the default policy)."""
    try:
        parts = urlsplit(origin)
        hostname = parts.hostname
    except ValueError:
        return False
    host_header = str(environ.get("HTTP_HOST", "")).strip().lower()
    return (
        parts.scheme in ("http", "https")
        and hostname in _LOCAL_HOSTS
        and parts.netloc.lower() == host_header
    )


class OriginPolicy:
    """Callable given to python-engineio: may a page from this origin connect?

    Allowed: the origins of the allow-list, and the pages this server serves itself on
    localhost (the demo page at /chat/ works on any local port without configuration).
    Engine.IO only consults it when the request carries an Origin header, which browsers
    always send for WebSocket and cross-origin requests; non-browser clients (tests,
    scripts) have no ambient credentials to abuse and are let through.
    """

    def __init__(self, allowed: Optional[List[str]]) -> None:
        self.allowed = allowed

    def __call__(self, origin: Optional[str], environ: Optional[Mapping[str, Any]] = None) -> bool:
        if not origin:
            return True
        normalised = origin.strip().rstrip("/").lower()
        verdict = normalised in (self.allowed or ()) or same_origin_localhost(
            normalised, environ or {}
        )
        if not verdict:
            logger.info("socketio: refused a connection from origin %r", origin[:200])
        return verdict

    def describe(self) -> str:
        listed = ", ".join(self.allowed) if self.allowed else "none listed"
        return f"{listed} (plus this server's own pages on localhost)"
