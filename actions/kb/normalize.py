"""Entity validation and normalisation for the database actions.

Every value read from an entity or a slot goes through here before it reaches a query:
- ``clean_value`` rejects anything that is not a short printable string (a message
  starting with "/" can inject any JSON as an entity value);
- resolvers map what the user typed ("mouans sartou", "romans", "boost inno",
  "les jeunes", "villes françaises") to a known canonical value, using
  common.text.normalise_name (case, accents, hyphens, elisions) and rapidfuzz for typos;
- an unknown value gives up to 3 close suggestions, never a guess.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from rapidfuzz import fuzz, process

from actions.kb.repository import Catalogue, NameEntry
from actions.kb.vocab import COUNTRIES, NETWORK_TYPES, PAGE_SIZE, PROGRAMMES
from common.text import fold, normalise_name

MAX_VALUE_LENGTH = 80
MAX_OFFSET = 1000
YEAR_MIN, YEAR_MAX = 2000, 2035

ACCEPT_SCORE = 87.0  # fuzz.ratio on normalised keys needed to accept a typo
MARGIN = 3.0  # ... and this far ahead of the next candidate
SUGGEST_RATIO = 60.0  # a suggestion needs this fuzz.ratio ...
SUGGEST_WRATIO = 80.0  # ... or this fuzz.WRatio (partial / token matches)
MIN_PART = 4  # "mouans" may stand for "Mouans-Sartoux" when it is a whole word of one name

# Generic words users put around a name: "le réseau BoostInno", "la ville de Nantes".
_LEADING_NOISE = re.compile(
    r"^(?:(?:et|pour|sur|avec|dans|a|au|aux|en|de|du|des|la|le|les|un|une|"
    r"reseau|reseaux|network|projet|ville|villes|commune|cite|theme|thematique|"
    r"programme|pays|type)\s+)+"
)
_TRAILING_NOISE = re.compile(r"(?:\s+(?:svp|stp|merci|please))+$")


def clean_value(value: Any, max_length: int = MAX_VALUE_LENGTH) -> Optional[str]:
    """A stripped printable string of at most ``max_length`` characters, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        value = str(int(value)) if float(value).is_integer() else str(value)
    if not isinstance(value, str):
        return None
    if len(value) > max_length * 4:  # cheap guard before any processing
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp") for ch in value):
        return None
    value = " ".join(value.split())
    if not value or len(value) > max_length:
        return None
    return value


def parse_year(value: Any) -> Optional[int]:
    text = clean_value(value, 20)
    if text is None:
        return None
    match = re.fullmatch(r"(?:en\s+|annee\s+|année\s+)?((?:19|20)\d{2})", text.strip().lower())
    if not match:
        return None
    year = int(match.group(1))
    return year if YEAR_MIN <= year <= YEAR_MAX else None


def parse_offset(value: Any) -> Optional[int]:
    """A results offset from a slot or a payload: whole, >= 0, <= MAX_OFFSET."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = clean_value(value, 10)
        if text is None or not re.fullmatch(r"\d+(?:\.0+)?", text):
            return None
        value = float(text)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if float(value) != int(value) or not 0 <= value <= MAX_OFFSET:
        return None
    offset = int(value)
    return offset - offset % PAGE_SIZE


@dataclass(frozen=True)
class Resolution:
    """Outcome of resolving one raw value."""

    status: str  # found | unknown | invalid
    raw: Optional[str] = None
    value: Optional[str] = None  # canonical key: slug / ISO code / programme name
    label: Optional[str] = None  # display name
    suggestions: tuple[tuple[str, str], ...] = ()  # (key, label)

    @property
    def found(self) -> bool:
        return self.status == "found"


@dataclass
class _Candidate:
    key: str
    label: str
    names: list[str] = field(default_factory=list)


class Resolver:
    """Exact, compact, containment and fuzzy matching of names against known values."""

    def __init__(self, candidates: Iterable[tuple[str, str, Iterable[str]]], min_contained: int = 4):
        self._by_key: dict[str, _Candidate] = {}
        self._index: dict[str, str] = {}  # normalised name -> candidate key
        self._compact: dict[str, str] = {}
        self._min_contained = min_contained
        for key, label, names in candidates:
            cand = _Candidate(key, label)
            self._by_key[key] = cand
            for name in (label, *names):
                norm = normalise_name(name)
                if not norm:
                    continue
                cand.names.append(norm)
                self._index.setdefault(norm, key)
                self._compact.setdefault(norm.replace(" ", ""), key)
        self._choices = list(self._index.keys())

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    def label(self, key: str) -> Optional[str]:
        cand = self._by_key.get(key)
        return cand.label if cand else None

    def keys(self) -> list[str]:
        return list(self._by_key)

    def _found(self, raw: str, key: str) -> Resolution:
        return Resolution("found", raw, key, self._by_key[key].label)

    def resolve(self, value: Any) -> Resolution:
        raw = clean_value(value)
        if raw is None:
            return Resolution("invalid", None)
        norm = normalise_name(raw)
        if not norm:
            return Resolution("invalid", raw)
        for candidate in dict.fromkeys((norm, self._strip_noise(norm))):
            if not candidate:
                continue
            if candidate in self._index:
                return self._found(raw, self._index[candidate])
            compact = candidate.replace(" ", "")
            if compact in self._compact:
                return self._found(raw, self._compact[compact])
        stripped = self._strip_noise(norm) or norm
        contained = self._contained(stripped)
        if contained:
            return self._found(raw, contained)
        owners = self._containing(stripped)
        if len(owners) == 1:
            return self._found(raw, owners[0])
        if owners:
            return Resolution(
                "unknown", raw, suggestions=tuple((k, self._by_key[k].label) for k in owners[:3])
            )
        return self._fuzzy(raw, stripped)

    @staticmethod
    def _strip_noise(norm: str) -> str:
        return _TRAILING_NOISE.sub("", _LEADING_NOISE.sub("", norm)).strip()

    def _contained(self, norm: str) -> Optional[str]:
        """The longest known name that appears as whole words inside ``norm``."""
        padded = f" {norm} "
        best: Optional[tuple[int, str]] = None
        for name, key in self._index.items():
            if len(name) < self._min_contained or len(name) >= len(norm):
                continue
            if f" {name} " in padded and (best is None or len(name) > best[0]):
                best = (len(name), key)
        return best[1] if best else None

    def _containing(self, norm: str) -> list[str]:
        """Candidates having a name that contains ``norm`` as whole words ("mouans")."""
        if len(norm.replace(" ", "")) < MIN_PART:
            return []
        needle = f" {norm} "
        owners = {key for name, key in self._index.items() if needle in f" {name} " and name != norm}
        return sorted(owners, key=lambda k: self._by_key[k].label.casefold())

    def _fuzzy(self, raw: str, norm: str) -> Resolution:
        if not self._choices:
            return Resolution("unknown", raw)
        scored: dict[str, float] = {}  # WRatio, for suggestions
        accept: dict[str, float] = {}  # ratio, for acceptance and suggestions
        queries = {norm, norm.replace(" ", "")}
        for query in queries:
            for name, score, _ in process.extract(
                query, self._choices, scorer=fuzz.ratio, limit=10, processor=None
            ):
                key = self._index[name]
                accept[key] = max(accept.get(key, 0.0), score)
                compact_score = fuzz.ratio(query, name.replace(" ", ""), processor=None)
                accept[key] = max(accept[key], compact_score)
            for name, score, _ in process.extract(
                query, self._choices, scorer=fuzz.WRatio, limit=10, processor=None
            ):
                key = self._index[name]
                scored[key] = max(scored.get(key, 0.0), score)
        ranked_accept = sorted(accept.items(), key=lambda kv: -kv[1])
        if ranked_accept:
            best_key, best = ranked_accept[0]
            second = ranked_accept[1][1] if len(ranked_accept) > 1 else 0.0
            if best >= ACCEPT_SCORE and best - second >= MARGIN and len(norm) >= 3:
                return self._found(raw, best_key)
        keys = set(scored) | set(accept)
        eligible = [
            k
            for k in keys
            if accept.get(k, 0.0) >= SUGGEST_RATIO or scored.get(k, 0.0) >= SUGGEST_WRATIO
        ]
        ranked = sorted(
            eligible,
            key=lambda k: (-max(accept.get(k, 0.0), scored.get(k, 0.0)), self._by_key[k].label),
        )
        suggestions = tuple((key, self._by_key[key].label) for key in ranked[:3])
        return Resolution("unknown", raw, suggestions=suggestions)


def _entries(entries: Iterable[NameEntry]) -> Iterable[tuple[str, str, Iterable[str]]]:
    for e in entries:
        yield e.slug, e.name, e.aliases


def country_resolver() -> Resolver:
    return Resolver(
        ((c.code, c.name, (c.code, *c.synonyms)) for c in COUNTRIES.values()), min_contained=4
    )


def network_type_resolver() -> Resolver:
    return Resolver(
        ((t.code, t.label, (t.plural, *t.synonyms)) for t in NETWORK_TYPES.values()),
        min_contained=5,
    )


def programme_resolver() -> Resolver:
    return Resolver(((p.name, p.name, p.synonyms) for p in PROGRAMMES.values()), min_contained=6)


_COUNTRIES = country_resolver()
_TYPES = network_type_resolver()
_PROGRAMMES = programme_resolver()


class Normalizer:
    """All resolvers the network actions need, built from one Catalogue."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self.networks = Resolver(_entries(catalogue.networks), min_contained=4)
        self.cities = Resolver(_entries(catalogue.cities), min_contained=4)
        self.themes = Resolver(
            ((e.slug, e.name, (e.slug, *e.aliases)) for e in catalogue.themes), min_contained=3
        )
        self.countries = _COUNTRIES
        self.network_types = _TYPES
        self.programmes = _PROGRAMMES

    def resolve_programme(self, value: Any) -> Resolution:
        raw = clean_value(value)
        if raw is None:
            return Resolution("invalid")
        match = re.search(r"\burbact\s*(iv|iii|ii|i|[1-4])\b", normalise_name(raw))
        if match:
            roman = {"1": "I", "2": "II", "3": "III", "4": "IV"}.get(match.group(1), match.group(1).upper())
            return Resolution("found", raw, f"URBACT {roman}", f"URBACT {roman}")
        bare = normalise_name(raw)
        if bare in ("iv", "iii", "ii", "4", "3", "2"):
            roman = {"4": "IV", "3": "III", "2": "II"}.get(bare, bare.upper())
            return Resolution("found", raw, f"URBACT {roman}", f"URBACT {roman}")
        return self.programmes.resolve(raw)

    def resolve_year(self, value: Any) -> Resolution:
        raw = clean_value(value, 20)
        year = parse_year(value)
        if year is None:
            return Resolution("invalid" if raw is None else "unknown", raw)
        return Resolution("found", raw, str(year), str(year))

    def resolve(self, entity: str, value: Any) -> Resolution:
        if entity == "programme":
            return self.resolve_programme(value)
        if entity == "year":
            return self.resolve_year(value)
        resolver = self._resolver(entity)
        if resolver is None:
            return Resolution("invalid")
        return resolver.resolve(value)

    def _resolver(self, entity: str) -> Optional[Resolver]:
        return {
            "network": self.networks,
            "city": self.cities,
            "theme": self.themes,
            "country": self.countries,
            "network_type": self.network_types,
        }.get(entity)

    def label(self, entity: str, key: str) -> Optional[str]:
        if entity in ("programme", "year"):
            return key
        resolver = self._resolver(entity)
        return resolver.label(key) if resolver else None

    def is_known(self, entity: str, key: Any) -> bool:
        """True when ``key`` is a canonical key of ``entity`` (used to re-validate last_query)."""
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            return False
        if entity == "year":
            return parse_year(key) is not None
        if entity == "programme":
            return key in PROGRAMMES
        return self.label(entity, str(key)) is not None and str(key) == key


# Words of the questions themselves: what is left once they are removed may be a name the NLU
# did not tag (an unknown city or network), which deserves an honest "je ne trouve pas".
_QUESTION_WORDS = frozenset(
    """
    a ai as au aux avec c ca ce cet cette ces chef chefs cite cites collectivite collectivites
    comment commune communes compte comptent connaitre d dans de des dire dites donc donnez du
    elle elles en est et etre fait fait-elle fait-il faire file fr francais francaise france
    il ils informations infos j je l la le les leur leurs lui m ma me membre membres mes mene
    moi mon n ne nos notre nous on ou parle parlez participe participent participation
    partenaire partenaires pas peut peux piloté pilote pilotes plus porte porteur pour presentez
    qu quel quelle quelles quels qui quoi reseau reseaux s sa savoir se ses son sont sur svp
    t-elle t-il t-on te trouve trouver trouve-t-on tu un une urbact ville villes vous y
    autre autres concerne concernant connais connaissez detail details engage engagee engages
    implique impliquee impliques liste lister montre montrez presente presentation role
    ete etait etaient avez avoir ont eu sait partie parties fait font actuellement aujourd'hui deja encore egalement aussi bien merci bonjour s'il plait
    dedans dessus la-dedans ici par francaises ceux celles celui lequel laquelle lesquels lesquelles
    dont travaille travaillent bosse bossent premier premiere deuxieme second dernier derniere
    """.split()
)
_NAME_TOKENS = re.compile(r"[^\W\d_][\w'’\-]*", re.UNICODE)


def residual_name(text: Any) -> Optional[str]:
    """The words of ``text`` that are not question words, e.g. "Triffouillis-les-Oies".

    Returns None for button payloads ("/intent{...}") and when nothing but question words
    (or words shorter than 3 letters) is left.
    """
    if not isinstance(text, str) or not text.strip() or text.lstrip().startswith("/"):
        return None
    kept: list[str] = []
    for token in _NAME_TOKENS.findall(text[:MAX_VALUE_LENGTH * 2]):
        key = fold(token).replace("’", "'")
        key = re.sub(r"^(?:l|d|qu|j|n|s|c|m|t)'", "", key)
        if all(part in _QUESTION_WORDS or len(part) < 3 for part in key.split("-")):
            continue
        kept.append(re.sub(r"^(?:[lLdDjJnNsScCmMtT]|[qQ]u)['’]", "", token))
    name = " ".join(kept).strip()
    return clean_value(name) if name else None


_SAINT = re.compile(r"(saint|sainte|st|ste)\s+\w")
_DEPARTMENT_NUMBER = re.compile(r"\(\s*(?:\d{2,3}|2[ab])\s*\)", re.IGNORECASE)


def looks_like_name(residual: str, text: Any) -> bool:
    """Whether untagged leftover words are worth an honest "« X » ne figure pas".

    A capital letter ("Triffouillis", "SuperVilles"), a hyphenated compound
    ("triffouillis-les-oies"), a leading "saint" ("saint etienne") or a department number
    after it ("pontarlier (25)") says a
    name was meant; lower-case ordinary words ("qui pilotait ce reseau ?", "et ils ont
    continue apres ?") are a follow-up, answered from the conversation instead.
    """
    if any(word[:1].isupper() or "-" in word.strip("-") for word in residual.split()):
        return True
    if _SAINT.match(fold(residual)):  # "saint etienne dans urbact ?"
        return True
    return isinstance(text, str) and bool(_DEPARTMENT_NUMBER.search(text))
