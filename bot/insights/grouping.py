"""Grouping of near-duplicate messages ("c koi urbact ?" and "C'est quoi URBACT" together).

Texts are compared accent- and case-folded (common/text.py), punctuation dropped, with
rapidfuzz's token-sort ratio: a text joins the first group whose first text scores at least
SIMILARITY_THRESHOLD, else it opens a group. Exact folded duplicates are merged first, so
the fuzzy pass runs over distinct texts only.
"""

from __future__ import annotations

from collections import Counter
from typing import Dict, Final, Iterable, List

from rapidfuzz import fuzz, process

from common.text import normalise_name

SIMILARITY_THRESHOLD: Final[float] = 80.0
MAX_GROUPS: Final[int] = 50


def comparison_key(text: str) -> str:
    return normalise_name(text)


def group_similar(texts: Iterable[str], threshold: float = SIMILARITY_THRESHOLD,
                  limit: int = MAX_GROUPS) -> List[Dict[str, object]]:
    """[{"text", "count"}], most frequent first; each group shown by its most frequent text."""
    by_key: Dict[str, Counter[str]] = {}
    for text in texts:
        key = comparison_key(text)
        if key:
            by_key.setdefault(key, Counter())[text.strip()] += 1
    heads: List[str] = []
    groups: Dict[str, Counter[str]] = {}
    for key in sorted(by_key, key=lambda k: -sum(by_key[k].values())):
        match = process.extractOne(key, heads, scorer=fuzz.token_sort_ratio, score_cutoff=threshold)
        head = match[0] if match else key
        if not match:
            heads.append(key)
        groups.setdefault(head, Counter()).update(by_key[key])
    ranked = sorted(groups.values(), key=lambda c: (-sum(c.values()), c.most_common(1)[0][0]))
    return [{"text": c.most_common(1)[0][0], "count": sum(c.values())} for c in ranked[:limit]]
