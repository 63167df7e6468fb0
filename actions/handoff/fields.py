"""Checks of the hand-off form answers. Pure functions: no Rasa, no database.

Each check returns a `Checked` value: the cleaned value (control characters blanked,
invisible format characters such as bidi overrides and zero-width spaces removed), or None
with a short French explanation for the user. The same checks run again on submit, because a message
starting with "/" can put anything into a slot.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final, Optional

from common.text import fold

MAX_EMAIL_CHARS: Final[int] = 254  # RFC 5321 path limit
MAX_LOCAL_CHARS: Final[int] = 64
MAX_LABEL_CHARS: Final[int] = 63
NAME_CHARS: Final[tuple[int, int]] = (2, 100)
ORGANISATION_CHARS: Final[tuple[int, int]] = (2, 150)
QUESTION_CHARS: Final[tuple[int, int]] = (10, 2000)

_LOCAL_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_EMAIL_CANDIDATE = re.compile(r"[^\s<>()\[\],;:\"«»]+@[^\s<>()\[\],;:\"«»]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)

_CANCEL = re.compile(
    r"^(?:annul\w*|stop|abandon\w*|laisse[zr]? tomber|j'?arrete|on arrete|arret\w*|"
    r"je ne veux plus|finalement non|oubliez?)\b"
)
_YES = {
    "oui", "o", "yes", "y", "ok", "okay", "d'accord", "daccord", "dac", "bien sur", "volontiers",
    "j'accepte", "accepte", "j accepte", "oui j'accepte", "oui bien sur", "oui d'accord",
    "c'est d'accord", "je consens", "oui je consens", "ouais", "oui merci", "/affirm",
    "tout a fait", "absolument", "evidemment", "pas de probleme", "oui, j'accepte",
}
_NO = {
    "non", "n", "no", "nope", "je refuse", "refuse", "non merci", "pas d'accord",
    "je ne suis pas d'accord", "non je refuse", "je n'accepte pas", "n'accepte pas",
    "surtout pas", "certainement pas", "non, merci", "/deny", "non plutot pas", "plutot pas",
}


@dataclass(frozen=True)
class Checked:
    value: Optional[Any]
    problem: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.value is not None


def _visible(text: str) -> str:
    """Without invisible format characters (Unicode Cf): bidi overrides and isolates
    (U+202A-202E, U+2066-2069) that reorder what the staff read, zero-width spaces and
    joiners (U+200B-200D, U+2060, U+FEFF), soft hyphens..."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _clean(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFC", _visible(_CONTROL.sub(" ", text)))
    return _SPACES.sub(" ", text).strip()


def _folded(text: str) -> str:
    return _SPACES.sub(" ", re.sub(r"[!.?…]+$", "", fold(text))).strip()


def wants_to_cancel(text: Any) -> bool:
    """"annuler", "stop", "laissez tomber"... said instead of answering a question."""
    return bool(_CANCEL.match(_folded(_clean(text))))


def check_email(text: Any) -> Checked:
    """One e-mail address found in the answer, with a lower-cased domain."""
    raw = _clean(text)
    if raw.lower().startswith("mailto:"):
        raw = raw[len("mailto:"):]
    candidates = [c.rstrip(".") for c in _EMAIL_CANDIDATE.findall(raw)]
    if not candidates:
        return Checked(None, "Je ne trouve pas d'adresse e-mail dans votre réponse (exemple : prenom.nom@ville.fr).")
    if len(set(c.lower() for c in candidates)) > 1:
        return Checked(None, "Indiquez une seule adresse e-mail, s'il vous plaît.")
    address = candidates[0]
    problem = "Cette adresse e-mail ne semble pas valide ; pouvez-vous la vérifier ?"
    if len(address) > MAX_EMAIL_CHARS:
        return Checked(None, f"Cette adresse est trop longue ({MAX_EMAIL_CHARS} caractères au plus).")
    local, _, domain = address.rpartition("@")
    if not local or not domain or "@" in local or len(local) > MAX_LOCAL_CHARS:
        return Checked(None, problem)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return Checked(None, problem)
    if not all(_LOCAL_ATOM.match(part) for part in local.split(".")):
        return Checked(None, problem)
    domain = domain.lower()
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return Checked(None, problem)
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not _TLD.match(labels[-1]):
        return Checked(None, problem)
    if any(not label or len(label) > MAX_LABEL_CHARS or not _LABEL.match(label) for label in labels):
        return Checked(None, problem)
    return Checked(f"{local}@{domain}")


def _check_words(text: Any, limits: tuple[int, int], what: str) -> Checked:
    value = _clean(text)
    low, high = limits
    if value.startswith("/"):  # a button payload or command, not an answer
        return Checked(None, f"{what} : répondez par un texte, s'il vous plaît.")
    if len(value) < low or not _LETTER.search(value):
        return Checked(None, f"{what} semble incomplet ; pouvez-vous le préciser ?")
    if len(value) > high:
        return Checked(None, f"{what} est trop long : {high} caractères au plus, s'il vous plaît.")
    if "@" in value and check_email(value).ok and len(value.split()) == 1:
        return Checked(None, f"Il me faut ici {what.lower()}, pas une adresse e-mail.")
    return Checked(value)


def check_name(text: Any) -> Checked:
    return _check_words(text, NAME_CHARS, "Votre nom")


def check_organisation(text: Any) -> Checked:
    return _check_words(text, ORGANISATION_CHARS, "Le nom de votre organisation")


def check_question(text: Any) -> Checked:
    value = _clean(text)
    low, high = QUESTION_CHARS
    if value.startswith("/"):
        return Checked(None, "Écrivez votre question en quelques mots, s'il vous plaît.")
    if len(value) < low or len(_LETTER.findall(value)) < 5:
        return Checked(None, "Votre question est un peu courte : décrivez-la en une ou deux phrases.")
    if len(value) > high:
        return Checked(None, f"Votre question est trop longue : {high} caractères au plus, s'il vous plaît.")
    return Checked(value)


def check_consent(value: Any) -> Checked:
    """True / False from a boolean slot value or a French yes / no."""
    if isinstance(value, bool):
        return Checked(value)
    answer = _folded(_clean(value))
    answer = answer.replace("’", "'")
    if answer in _YES or answer.startswith(("oui ", "oui,", "j'accepte")):
        return Checked(True)
    if answer in _NO or answer.startswith(("non ", "non,", "je refuse")):
        return Checked(False)
    return Checked(None, "Répondez simplement par « oui » ou par « non », s'il vous plaît.")
