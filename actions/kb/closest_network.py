"""Which network of a long list is closest to what the person wrote.

A theme search can return a long list ("inclusion": dozens of networks); the one the person
means ("les personnes âgées isolées chez elles" -> Breaking Isolation) may sit on a later
page. Words of the message are compared with each network's name and description by their
first four letters (accents and case folded), so "isolées" meets "isolement" and "âgées"
meets "âgées"; everyday words and the words of any theme search are left out.
"""

from __future__ import annotations

import re
from typing import Final, Iterable, Optional, Sequence, Tuple

from common.text import fold

STEM: Final[int] = 4
_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about a network's subject (folded, compared by their stem).
_EVERYDAY: Final[frozenset[str]] = frozenset(
    fold(word)[:STEM]
    for word in (
        "réseau réseaux urbact ville villes commune communes collectivité territoire projet projets "
        "europe européen européenne chez nous notre nos vous votre vos elles ils sont avec pour dans "
        "avoir faire quel quels quelle quelles existe existent travaille travaillent sujet thème "
        "thèmes question aussi comme plus très bien vraiment problème problèmes depuis mairie "
        "service besoin cherche chercher trouver aider partenaires partenaire programme action "
        "actions local locale locaux"
    ).split()
)


def stems(text: str) -> set[str]:
    return {
        word[:STEM]
        for word in _WORD.findall(fold(text))
        if len(word) >= STEM and not word.isdigit() and word[:STEM] not in _EVERYDAY
    }


def closest(message: str, networks: Iterable[Tuple[str, str]]) -> Optional[str]:
    """Slug of the network (slug, name and description) sharing the most word stems with the
    message; None when none shares any, or when two share the most."""
    wanted = stems(message)
    if not wanted:
        return None
    scored: Sequence[Tuple[int, str]] = sorted(
        ((len(wanted & stems(text)), slug) for slug, text in networks), reverse=True
    )
    if not scored or scored[0][0] == 0:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return scored[0][1]
