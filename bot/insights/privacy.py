"""Masking of personal data typed in messages, before any text leaves the insights.

E-mail addresses, phone numbers (French and international forms) and names introduced by
"je m'appelle", "mon nom est", "moi c'est", "je suis" (a capitalised word after it) or
signed "cordialement, Jeanne" are replaced by placeholders. Masking errs on the side of
hiding: a word too many is masked rather than a name shown.
"""

from __future__ import annotations

import re
from typing import Final

EMAIL_MASK: Final[str] = "[e-mail]"
PHONE_MASK: Final[str] = "[téléphone]"
NAME_MASK: Final[str] = "[nom]"

_EMAIL = re.compile(r"[\w.+'-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# 0X XX XX XX XX, +33 X XX.., 0033.., with spaces, dots or dashes; and any run of 8+ digits.
_PHONE = re.compile(r"(?<![\w])(?:\+|00)?\d(?:[\s.\-/]?\(?\d\)?){7,14}(?![\w])")
_NAME_WORD = r"[A-Za-zÀ-ÖØ-öø-ÿ][\w'’\-]*"
_CAPITALISED = r"[A-ZÀ-ÖØ-Þ][\w'’\-]*"
# "je m'appelle X Y", "mon nom est X", "moi c'est X": the next one or two words, whatever the case.
_NAMED = re.compile(
    rf"\b(je m['’]appelle|mon nom est|mon nom c['’]est|moi c['’]est|nom\s*:)\s+({_NAME_WORD}(?:\s+{_NAME_WORD})?)",
    re.IGNORECASE,
)
# "je suis Jeanne Martin", "cordialement, Jeanne": capitalised words only ("je suis élue" stays).
_INTRODUCED = re.compile(
    rf"\b((?i:je suis|cordialement|bien à vous)[\s,]+)({_CAPITALISED}(?:[\s\-]+{_CAPITALISED})*)"
)


def mask(text: str) -> str:
    """The text with e-mail addresses, phone numbers and introduced names replaced."""
    masked = _EMAIL.sub(EMAIL_MASK, text)
    masked = _PHONE.sub(PHONE_MASK, masked)
    masked = _NAMED.sub(lambda m: f"{m.group(1)} {NAME_MASK}", masked)
    return _INTRODUCED.sub(lambda m: f"{m.group(1)}{NAME_MASK}", masked)
