"""Find the knowledge base's names (cities, networks, themes, countries) in any message.

Pure Python (no Rasa): the NLU component bot/nlu/kb_entities.py wraps it.

People type place and network names as they come: "saint jean de luz", "Lons-le-Saunier
(39)", "tek revolution", "des villes polonaises". A name matches when its folded words
(lower case, no accents, hyphens and apostrophes as spaces, elisions dropped even when typed
without their apostrophe, "st"/"ste" read as "saint"/"sainte") appear in the message's folded
words, exactly or, for names of five letters or more, within a small edit
distance (rapidfuzz). Words that the assistant's training sentences use as ordinary words
("roman", "serres"...) only match a one-word name exactly and written with a capital, and
are never the target of a fuzzy match; nor is the word after "saint" ("st nazaire" is not
Nazaré).

The names come from the file the importer writes (var/kb_names.json, `KB_NAMES_FILE`); it is
re-read when it changes, so a city added to data/kb/ is recognised once imported.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from rapidfuzz import fuzz, process

from common import settings
from common.text import fold

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
ENTITY_PRIORITY: Tuple[str, ...] = ("network", "city", "country", "theme")
MAX_WORDS = 8  # longest name, in words, that is looked for
FUZZY_MIN_LENGTH = 5  # shorter names must be typed exactly
MAX_SPLIT_WORDS = 3  # a one-word name may be typed in up to three pieces
RELOAD_CHECK_SECONDS = 5.0

_WORD = re.compile(r"[^\W_]+")
_ELIDED = frozenset({"l", "d", "j", "qu", "n", "s", "c", "m", "t", "jusqu", "lorsqu", "puisqu"})
# Elided articles typed without their apostrophe ("morne a l eau", "villeneuve d ascq").
_LONE_ELIDED = frozenset({"l", "d", "qu"})
# Abbreviations people type in place names ("st etienne", "ste foy").
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints"}
# A word after these is the tail of a compound name ("saint nazaire"), never a name on its own.
_NAME_HEADS = frozenset({"saint", "sainte", "saints"})


def default_names_path() -> Path:
    return Path(settings.KB_NAMES_FILE.read() or ROOT / "var" / "kb_names.json")


@dataclass(frozen=True)
class Word:
    text: str  # folded
    start: int  # in the original message
    end: int
    capitalised: bool


def words_of(text: str) -> List[Word]:
    """Folded words with their offsets in ``text``; elided articles ("l'", "d'") dropped."""
    folded: List[str] = []
    origin: List[int] = []
    for index, char in enumerate(text):
        for piece in fold(char):
            folded.append(piece)
            origin.append(index)
    flat = "".join(folded)
    result: List[Word] = []
    for match in _WORD.finditer(flat):
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        after = flat[match.end() : match.end() + 1]
        if (match.group() in _ELIDED and after == "'") or match.group() in _LONE_ELIDED:
            continue
        word = _ABBREVIATIONS.get(match.group(), match.group())
        result.append(Word(word, start, end, text[start : start + 1].isupper()))
    return result


def name_key(name: str) -> str:
    return " ".join(w.text for w in words_of(name))


def _variants(name: str) -> Iterable[str]:
    yield name
    bare = re.sub(r"\s*\([^)]*\)", "", name).strip()  # "Grenade (Espagne)" -> "Grenade"
    if bare and bare != name:
        yield bare


@dataclass(frozen=True)
class Found:
    entity: str
    value: str
    start: int
    end: int
    score: float  # 1.0 exact, else rapidfuzz's ratio / 100


class NameIndex:
    """Every known name, by folded key, with the entity and canonical value it stands for."""

    def __init__(self, entries: Dict[str, Sequence[dict]], common_words: FrozenSet[str]):
        self.common_words = common_words
        self.exact: Dict[str, Tuple[str, str]] = {}
        for entity in reversed(ENTITY_PRIORITY):  # higher priority written last, wins
            for entry in entries.get(entity, []):
                value = str(entry.get("value") or "").strip()
                for name in entry.get("names", []) or []:
                    for variant in _variants(str(name)):
                        key = name_key(variant)
                        if key and len(key.split()) <= MAX_WORDS:
                            self.exact[key] = (entity, value)
        self.max_words = max((len(k.split()) for k in self.exact), default=1)
        # Fuzzy candidates, by number of words: only names long enough to be told apart.
        self.fuzzy: Dict[int, List[str]] = {}
        for key in self.exact:
            if len(key.replace(" ", "")) >= FUZZY_MIN_LENGTH and key not in common_words:
                self.fuzzy.setdefault(len(key.split()), []).append(key)

    def find(self, text: str) -> List[Found]:
        words = words_of(text)
        taken = [False] * len(words)
        found = self._exact(words, taken)
        found += self._approximate(words, taken)
        return sorted(found, key=lambda f: f.start)

    def _exact(self, words: List[Word], taken: List[bool]) -> List[Found]:
        found: List[Found] = []
        i = 0
        while i < len(words):
            for size in range(min(self.max_words, len(words) - i), 0, -1):
                key = " ".join(w.text for w in words[i : i + size])
                hit = self.exact.get(key)
                if hit is None and 1 < size <= MAX_SPLIT_WORDS:
                    # a one-word name typed in pieces: "city centre doctor", "tech revolution"
                    key = "".join(w.text for w in words[i : i + size])
                    hit = self.exact.get(key) if len(key) >= FUZZY_MIN_LENGTH + 3 else None
                if hit is None or not self._plausible(words[i : i + size], key):
                    continue
                found.append(Found(hit[0], hit[1], words[i].start, words[i + size - 1].end, 1.0))
                for j in range(i, i + size):
                    taken[j] = True
                i += size - 1
                break
            i += 1
        return found

    def _plausible(self, span: Sequence[Word], key: str) -> bool:
        """A one-word name that is also an ordinary word counts only when capitalised."""
        if len(span) > 1 or key not in self.common_words:
            return True
        entity = self.exact[key][0]
        return entity in ("theme", "country") or span[0].capitalised

    def _approximate(self, words: List[Word], taken: List[bool]) -> List[Found]:
        found: List[Found] = []
        i = 0
        while i < len(words):
            best: Optional[Tuple[float, int, str]] = None
            for size in range(min(3, len(words) - i), 0, -1):
                span = words[i : i + size]
                if any(taken[i : i + size]) or any(w.text in self.common_words for w in span):
                    continue
                if any(w.text.isdigit() for w in span):
                    continue
                if i > 0 and words[i - 1].text in _NAME_HEADS:
                    continue
                query = " ".join(w.text for w in span)
                if len(query.replace(" ", "")) < FUZZY_MIN_LENGTH:
                    continue
                cutoff = 90.0 if len(query) < 8 else 86.0
                match = process.extractOne(
                    query, self.fuzzy.get(size, []), scorer=fuzz.ratio, score_cutoff=cutoff
                )
                if match and (best is None or match[1] > best[0]):
                    best = (match[1], size, match[0])
                joined = query.replace(" ", "")
                if size > 1 and len(joined) >= FUZZY_MIN_LENGTH + 3:  # "citycentre doctor"
                    match = process.extractOne(joined, self.fuzzy.get(1, []), scorer=fuzz.ratio, score_cutoff=90.0)
                    if match and (best is None or match[1] > best[0]):
                        best = (match[1], size, match[0])
            if best is None:
                i += 1
                continue
            score, size, key = best
            entity, value = self.exact[key]
            found.append(Found(entity, value, words[i].start, words[i + size - 1].end, score / 100))
            for j in range(i, i + size):
                taken[j] = True
            i += size
        return found


class NamesFile:
    """The importer's names file, re-read when it changes (checked every few seconds)."""

    def __init__(self, path: Optional[Path] = None, common_words: Iterable[str] = ()):
        self.path = path or default_names_path()
        self.common_words = frozenset(common_words)
        self._lock = threading.Lock()
        self._index = NameIndex({}, self.common_words)
        self._stamp: Optional[Tuple[float, int]] = None
        self._checked = 0.0
        self._warned = False

    def index(self) -> NameIndex:
        now = time.monotonic()
        if now - self._checked >= RELOAD_CHECK_SECONDS or self._stamp is None:
            with self._lock:
                self._checked = now
                self._reload_if_changed()
        return self._index

    def _reload_if_changed(self) -> None:
        try:
            stat = self.path.stat()
        except OSError:
            if not self._warned:
                logger.error(
                    "Knowledge-base names file %s is missing: names are not recognised until "
                    "the importer has run (make data).",
                    self.path,
                )
                self._warned = True
            return
        stamp = (stat.st_mtime, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            entries = data["entities"]
            self._index = NameIndex(entries, self.common_words)
        except (OSError, ValueError, KeyError, TypeError) as error:
            logger.error("Knowledge-base names file %s unreadable (%s): kept the previous names.", self.path, error)
            return
        self._stamp = stamp
        self._warned = False
        logger.info("Knowledge-base names loaded: %d names from %s.", len(self._index.exact), self.path)
