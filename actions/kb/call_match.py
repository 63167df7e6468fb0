"""Which funding call a message is about: by year, funder, kind of network or a past deadline.

People ask about a call as they remember it: "l'appel 2023 planification", "l'appel FAMI
2022", "Interreg Europe, l'appel lancé en mars 2024", "le 4e appel de l'Initiative urbaine
européenne", "le dernier appel d'URBACT III". Each call is described by the words of its
name, funder and identifier and by its years; a message matches a call by the distinctive
words they share (rare words count more) and by a year of the call. A call is named when it clearly
beats the others; calls that tie (one funder's several calls) come most recent first.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from actions.kb.models import FundingCall
from common.text import fold

_WORD = re.compile(r"[a-z0-9]+")
_YEAR = re.compile(r"\b(20[0-4]\d)\b")
_ORDINAL = re.compile(r"\b(\d)\s*(?:e|er|eme|ème|°)\b")
# Words that say nothing about which call ("appel", "URBACT", "réseau"...).
_NEUTRAL = frozenset(
    "appel appels a au aux de des du d l la le les un une et en pour reseau reseaux projets projet "
    "urbact call calls ville villes 2021 2027 programme national dernier derniere premier 1er".split()
)
# What people say for a call's words.
_SYNONYMS = {
    "uia": "innovatrices",
    "eui": "innovatrices",
    "iue": "innovatrices",
    "planif": "planification",
    "apn": "planification",
    "itn": "innovation",
    "pratique": "pratiques",
    "transferts": "transfert",
    "iii": "iii",
    "3": "iii",
    "iv": "iv",
    "4": "iv",
}
MIN_SCORE = 1.0
MIN_LEAD = 0.5
URBACT_BONUS = 1.0  # "l'appel urbact de 2023": URBACT's own calls before the other funders' of that year


def words(text: str) -> list[str]:
    return [_SYNONYMS.get(w, w) for w in _WORD.findall(fold(text))]


def _years(call: FundingCall) -> set[int]:
    years = {int(y) for y in _YEAR.findall(f"{call.name} {call.slug}")}
    years |= {d.year for d in (call.opens_on, call.closes_on) if d}
    return years


@dataclass(frozen=True)
class _Profile:
    call: FundingCall
    words: frozenset[str]
    years: frozenset[int]
    ordinal: Optional[int]


def _profile(call: FundingCall) -> _Profile:
    text = f"{call.name} {call.funder} {call.slug.replace('-', ' ')}"
    ordinal = re.search(r"call (\d)$", call.slug.replace("-", " "))
    own = frozenset(w for w in words(text) if w not in _NEUTRAL and not w.isdigit())
    return _Profile(call, own, frozenset(_years(call)), int(ordinal.group(1)) if ordinal else None)


def _recency(call: FundingCall) -> int:
    day = call.closes_on or call.opens_on
    return day.toordinal() if day else 0


def top_calls(text: str, calls: Sequence[FundingCall]) -> list[FundingCall]:
    """The calls the message names, most recent first: one when it clearly beats the others,
    several when they tie ("l'appel interreg europe": each of the funder's calls), none when
    no call scores enough."""
    if not text or not calls:
        return []
    profiles = [_profile(c) for c in calls]
    frequency: Counter[str] = Counter(w for p in profiles for w in p.words)
    said = set(words(text))
    years = {int(y) for y in _YEAR.findall(fold(text))}
    ordinal = _ORDINAL.search(fold(text))
    scored = []
    for p in profiles:
        score = sum(math.log(1 + len(profiles) / frequency[w]) for w in said & p.words)
        if years:
            score += 1.5 if years & p.years else -1.0
        if ordinal and p.ordinal == int(ordinal.group(1)):
            score += 1.5
        if "urbact" in said and p.call.kind == "urbact":
            score += URBACT_BONUS
        scored.append((score, p.call))
    scored.sort(key=lambda item: item[0], reverse=True)
    best = scored[0][0]
    if best < MIN_SCORE:
        return []
    tied = [call for score, call in scored if best - score < MIN_LEAD]
    return sorted(tied, key=_recency, reverse=True)


def calls_of_year(text: str, calls: Iterable[FundingCall]) -> list[FundingCall]:
    """The calls of the year(s) named in the message (opening, closing or in the name)."""
    years = {int(y) for y in _YEAR.findall(fold(text))}
    return [c for c in calls if years & _years(c)] if years else []


def programme_in(text: str) -> Optional[str]:
    """"URBACT III" or "URBACT IV" when the message names one."""
    match = re.search(r"\burbact\s*(iv|4|iii|3)\b", fold(text or ""))
    if not match:
        return None
    return "URBACT IV" if match.group(1) in ("iv", "4") else "URBACT III"
