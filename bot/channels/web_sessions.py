"""Sessions of the website chat: the server chooses the id and signs it for the client.

A client resumes its conversation only by presenting the token issued for that id
(HMAC-SHA256 with WEB_SESSION_SECRET); anything else gets a fresh random session.

When SHARED_REDIS_URL is set, several Rasa instances serve the chat behind nginx and each
must verify the tokens the others issued: WEB_SESSION_SECRET (32 characters or more, the
same for every instance) is then required, and the channel refuses to start without it.
Alone, a missing secret is replaced by a random one (with a warning).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable

from common import settings
from common.settings import Environ, SettingError

logger = logging.getLogger(__name__)

DEFAULT_TOKEN_TTL_HOURS = 24 * 7
MIN_SECRET_CHARS = 32
_SESSION_ID = re.compile(r"^[A-Za-z0-9_\-]{32}$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_session_id() -> str:
    return secrets.token_urlsafe(24)


class SessionSigner:
    """Issues and checks the tokens that prove a client owns a session id.

    Token: ``v1.<issued-at, hex seconds>.<HMAC-SHA256(secret, "v1|id|issued-at")>``.
    A token is valid for one session id only, and for ``ttl_seconds`` after issue.
    """

    VERSION = "v1"

    def __init__(
        self,
        secret: bytes,
        ttl_seconds: int = DEFAULT_TOKEN_TTL_HOURS * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret must be at least 16 bytes long")
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def _mac(self, session_id: str, issued_at: int) -> str:
        message = f"{self.VERSION}|{session_id}|{issued_at}".encode("utf-8")
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def issue(self, session_id: str) -> str:
        issued_at = int(self._clock())
        return f"{self.VERSION}.{issued_at:x}.{self._mac(session_id, issued_at)}"

    def verify(self, session_id: Any, token: Any) -> bool:
        if not isinstance(session_id, str) or not isinstance(token, str):
            return False
        if not _SESSION_ID.match(session_id) or len(token) > 200:
            return False
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != self.VERSION:
            return False
        try:
            issued_at = int(parts[1], 16)
        except ValueError:
            return False
        now = self._clock()
        if issued_at > now + 300 or now - issued_at > self.ttl_seconds:
            return False
        return hmac.compare_digest(parts[2], self._mac(session_id, issued_at))


def signer_from_environment(
    ttl_hours: float = DEFAULT_TOKEN_TTL_HOURS, environ: Environ = None
) -> SessionSigner:
    """A signer keyed by WEB_SESSION_SECRET, or by a random key (with a warning) when unset.

    Raises SettingError (French) when SHARED_REDIS_URL is set and the secret is missing or
    shorter than 32 characters: the instances could not verify each other's tokens."""
    secret = settings.WEB_SESSION_SECRET.read(environ)
    ttl = int(ttl_hours * 3600)
    if settings.SHARED_REDIS_URL.is_set(environ):
        _require_shared_secret(secret)
    if secret:
        if len(secret) < MIN_SECRET_CHARS:
            logger.warning(
                "socketio: %s is shorter than 32 characters; use e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`",
                settings.WEB_SESSION_SECRET.name,
            )
        return SessionSigner(secret.encode("utf-8"), ttl)
    logger.warning(
        "socketio: %s is not set; generated a random session secret. Website chat "
        "sessions will not survive a restart of Rasa.",
        settings.WEB_SESSION_SECRET.name,
    )
    return SessionSigner(secrets.token_bytes(32), ttl)


def _require_shared_secret(secret: str) -> None:
    """Several instances (SHARED_REDIS_URL) need one shared secret of 32 characters or more."""
    if len(secret) >= MIN_SECRET_CHARS:
        return
    name = settings.WEB_SESSION_SECRET.name
    logger.error(
        "socketio: %s is %s but SHARED_REDIS_URL is set; the website chat cannot start",
        name,
        "shorter than 32 characters" if secret else "not set",
    )
    raise SettingError(
        f"{name} : {'trop court' if secret else 'absent'}. Avec SHARED_REDIS_URL, plusieurs "
        f"instances de Rasa servent le chat du site et vérifient les sessions les unes des "
        f"autres : donnez-leur à toutes le même secret de {MIN_SECRET_CHARS} caractères au "
        f"moins, par exemple `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
    )


@dataclass(frozen=True)
class Session:
    session_id: str
    token: str
    resumed: bool


def resolve_session(data: Any, signer: SessionSigner, persistence: bool = True) -> Session:
    """Answer a session_request: resume the client's session or start a new one.

    The client's session is resumed only when it presents the token issued for that id;
    anything else (no id, an id invented or copied by the client, a forged or expired
    token, persistence disabled) gets a fresh random id. Either way a fresh token is
    issued, so an active conversation never expires.
    """
    if persistence and isinstance(data, dict):
        claimed = data.get("session_id")
        token = data.get("token")
        if isinstance(claimed, str) and signer.verify(claimed, token):
            return Session(claimed, signer.issue(claimed), resumed=True)
        if claimed:
            logger.info("socketio: session_request with an unsigned or invalid id; new session")
    session_id = new_session_id()
    return Session(session_id, signer.issue(session_id), resumed=False)
