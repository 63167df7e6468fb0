"""Text helpers shared by every action: accent folding and name normalisation."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"’": "'", "`": "'", "´": "'", "‘": "'"})
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_SEPARATORS = re.compile(r"[\s\-_/.,;:!?()\"«»]+")
_ELISION = re.compile(r"\b(?:l|d|qu|j|n|s|c|m|t)'", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes ("Œuvre d’Île" -> "oeuvre d'ile")."""
    text = text.translate(_APOSTROPHES).translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.lower()


def normalise_name(text: str) -> str:
    """Comparison key for a place or network name.

    Folds accents and case, drops French elisions ("l'Eurométropole" -> "eurometropole")
    and turns hyphens and punctuation into single spaces ("Romans-sur-Isère" ->
    "romans sur isere").
    """
    folded = _ELISION.sub("", fold(text))
    return _SEPARATORS.sub(" ", folded).strip()
