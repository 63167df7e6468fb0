"""Checks shared by our input channels: who is talking and what they said."""

from __future__ import annotations

import re
from typing import Any, Optional

MAX_MESSAGE_CHARS = 2000
_SENDER = re.compile(r"[A-Za-z0-9_.:@\-]{1,128}")  # used with fullmatch: no trailing newline
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidInput(ValueError):
    """Raised with a French message for the user; the log gets the technical reason."""

    def __init__(self, user_message: str, log_reason: str) -> None:
        super().__init__(log_reason)
        self.user_message = user_message
        self.log_reason = log_reason


def check_sender(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(
            "Le champ « sender » est obligatoire : il identifie votre conversation.",
            "missing sender",
        )
    if not _SENDER.fullmatch(value):
        raise InvalidInput(
            "Le champ « sender » doit faire 1 à 128 caractères (lettres, chiffres, . _ - : @).",
            f"invalid sender of length {len(value)}",
        )
    return value


def check_message(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            "Le champ « message » est obligatoire et ne peut pas être vide.",
            "missing or empty message",
        )
    if len(value) > MAX_MESSAGE_CHARS:
        raise InvalidInput(
            f"Votre message est trop long : {MAX_MESSAGE_CHARS} caractères au plus, s'il vous plaît.",
            f"message of {len(value)} characters",
        )
    return _CONTROL.sub(" ", value)


def optional_metadata(value: Any) -> Optional[dict]:
    return value if isinstance(value, dict) else None
