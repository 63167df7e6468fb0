"""The one Rasa version our patches of Rasa's internals were written and tested for.

`bot/rasa_fixes.py`, `bot/fail_closed.py` and the quick-loading spaCy component
(`bot/nlu/spacy_nlp.py`) replace or subclass private parts of Rasa.
On another version they could silently do the wrong thing, so they refuse to run.
"""

from __future__ import annotations

import rasa

SUPPORTED_RASA_VERSION = "3.6.21"


class UnsupportedRasaVersion(RuntimeError):
    """Rasa is not the version our patches were written for."""


def require_supported_rasa(patch: str) -> None:
    """Raise UnsupportedRasaVersion, naming both versions, unless Rasa is the supported one."""
    found = getattr(rasa, "__version__", "inconnue")
    if found != SUPPORTED_RASA_VERSION:
        raise UnsupportedRasaVersion(
            f"{patch} a été écrit pour Rasa {SUPPORTED_RASA_VERSION} et refuse de s'appliquer à "
            f"Rasa {found} : vérifiez ce correctif sur cette version de Rasa, puis mettez à jour "
            "SUPPORTED_RASA_VERSION dans bot/rasa_version.py."
        )
