"""Accent folding and name normalisation, the one copy used by the actions and by the NLU."""

from __future__ import annotations

import re
import unicodedata

# Characters that NFKD does not decompose, mapped to what a French keyboard types instead.
_UNDECOMPOSED = str.maketrans({
    "’": "'", "`": "'", "´": "'", "‘": "'",
    "œ": "oe", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "ø": "o", "ı": "i",
})
_SEPARATORS = re.compile(r"[\s\-_/.,;:!?()\"«»]+")
_ELISION = re.compile(r"\b(?:l|d|qu|j|n|s|c|m|t)'", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case, strip accents, unify apostrophes ("Œuvre d’Île" -> "oeuvre d'ile", "Łódź" -> "lodz").

    Character by character, so a caller can keep offsets by folding one character at a time.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_name(text: str) -> str:
    """Comparison key for a place or network name.

    Folds accents and case, drops French elisions ("l'Eurométropole" -> "eurometropole")
    and turns hyphens and punctuation into single spaces ("Romans-sur-Isère" ->
    "romans sur isere").
    """
    folded = _ELISION.sub("", fold(text))
    return _SEPARATORS.sub(" ", folded).strip()


# "ils", "leur groupe", "chez eux", "cette ville": a follow-up about the place just talked
# about (matched on folded text). The NLU keeps such a follow-up on a field example
# (bot/nlu/follow_up.py) and the field example action then reads the place of the
# conversation (actions/brochure/field_examples.py).
POINTS_BACK = re.compile(r"\b(ils|elles|leur|leurs|eux|la ville|cette ville|ce departement|la bas)\b")
