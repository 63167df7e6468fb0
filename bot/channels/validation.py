"""Checks shared by our input channels: who is talking and what they said."""

from __future__ import annotations

import json
import re
from typing import Any, Optional

MAX_MESSAGE_CHARS = 2000
TOO_DEEP = "Le corps de la requête est trop imbriqué : envoyez un objet JSON simple."
_SENDER = re.compile(r"[A-Za-z0-9_.:@\-]{1,128}")  # used with fullmatch: no trailing newline
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Rasa reads a message starting with "/" as "/intent@confidence{entities}" and skips NLU
# (YAMLStoryReader._regex_message_pattern): the intent name is what precedes "{" or "@".
_SLASH_INTENT = re.compile(r"^/(?P<intent>[^{@]+)(?P<rest>.*)$", re.DOTALL)
FEEDBACK_INTENT = "feedback"
FEEDBACK_RATINGS = ("up", "down")
FEEDBACK_REFUSED = "Avis non reconnu : il n'a pas été enregistré."


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
    text = _CONTROL.sub(" ", value)
    check_feedback(text)
    return text


def feedback_rating(text: str) -> Optional[str]:
    """"up" or "down" for a well-formed `/feedback{"rating": ...}` message, else None."""
    match = _SLASH_INTENT.match(text.strip())
    if match is None or match.group("intent").strip() != FEEDBACK_INTENT:
        return None
    try:
        entities = json.loads(match.group("rest"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(entities, dict) or set(entities) != {"rating"}:
        return None
    rating = entities["rating"]
    return rating if rating in FEEDBACK_RATINGS else None


def check_feedback(text: str) -> None:
    """A message that sets the `feedback` intent must carry exactly a rating "up" or "down"
    (a "/" message skips NLU and could set any entity): anything else is refused, and the
    log line says why without repeating what was sent."""
    match = _SLASH_INTENT.match(text.strip())
    if match is None or match.group("intent").strip() != FEEDBACK_INTENT:
        return
    if feedback_rating(text) is None:
        raise InvalidInput(
            FEEDBACK_REFUSED, f"feedback message without a valid rating ({len(text)} characters)"
        )


def nesting_deeper_than(value: Any, max_depth: int) -> bool:
    """True when dicts and lists nest deeper than `max_depth` (iterative: no RecursionError)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def metadata_refused(log_reason: str, max_chars: int, max_depth: int) -> InvalidInput:
    return InvalidInput(
        "Les métadonnées de votre message sont trop volumineuses ou trop imbriquées "
        f"({max_chars} caractères et {max_depth} niveaux au plus) : message ignoré.",
        log_reason,
    )


def check_metadata(value: Any, max_chars: int, max_depth: int) -> Optional[dict]:
    """The message's metadata when it is a small, shallow JSON object; None when absent or
    not an object; raises InvalidInput (French) when it is too large or too deep."""
    if not isinstance(value, dict):
        return None
    if nesting_deeper_than(value, max_depth):
        raise metadata_refused(f"metadata nested deeper than {max_depth} levels", max_chars, max_depth)
    size = len(json.dumps(value, default=str))
    if size > max_chars:
        raise metadata_refused(f"metadata of {size} characters", max_chars, max_depth)
    return value
