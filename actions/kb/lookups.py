"""Generate data/nlu/lookups.yml (Rasa lookup tables and synonyms) from the knowledge base.

One source of truth: the lookup tables for the `city`, `network` and `theme` entities and
the synonyms mapping network/city aliases to canonical names are derived from data/kb/*.csv
by the importer; never edit the YAML by hand.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Sequence

from actions.kb.loader import KnowledgeBase
from actions.kb.models import City, Network
from actions.kb.vocab import COUNTRIES
from common import settings

# Names recognised by the NLU at run time (bot/nlu/kb_names.py reads the same default).
DEFAULT_NAMES_FILE = Path(__file__).resolve().parents[2] / "var" / "kb_names.json"

# The command below is the former path of actions/ops/import_data.py: the header changes when
# data/nlu/lookups.yml is next regenerated (the freshness check compares the whole text).
HEADER = (
    "# GENERATED FILE - do not edit by hand.\n"
    "# Source of truth: data/kb/*.csv. Regenerate with:\n"
    "#   .venv-actions/bin/python -m actions.ops.import_data\n"
    "# Check freshness with: .venv-actions/bin/python -m actions.ops.import_data --check-lookups\n"
)


def _sorted_unique(values: Iterable[str]) -> list[str]:
    seen: "OrderedDict[str, str]" = OrderedDict()
    for value in values:
        value = value.strip()
        if value and value.casefold() not in seen:
            seen[value.casefold()] = value
    return sorted(seen.values(), key=lambda v: (v.casefold(), v))


def _block(kind: str, name: str, examples: list[str]) -> str:
    lines = [f"- {kind}: {_scalar(name)}", "  examples: |"]
    lines += [f"    - {example}" for example in examples]
    return "\n".join(lines)


def _scalar(value: str) -> str:
    """A YAML-safe scalar (quoted when it contains characters YAML would interpret)."""
    if value and value[0].isalnum() and not any(ch in value for ch in ":#{}[],&*!|>'\"%@`"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_lookups(kb: KnowledgeBase) -> str:
    cities = _sorted_unique(v for c in kb.cities for v in (c.name, *c.aliases))
    networks = _sorted_unique(v for n in kb.networks for v in (n.name, *n.aliases))
    themes = _sorted_unique(v for t in kb.themes for v in (t.label, *t.synonyms))

    synonyms: dict[str, str] = {}  # alias (casefolded) -> canonical
    blocks_syn: list[tuple[str, list[str]]] = []
    named: tuple[Sequence[Network | City], ...] = (kb.networks, kb.cities)
    for rows in named:
        for row in sorted(rows, key=lambda r: r.name.casefold()):
            aliases = []
            for alias in row.aliases:
                key = alias.casefold()
                if key == row.name.casefold():
                    continue
                if key in synonyms and synonyms[key] != row.name:
                    raise ValueError(
                        f"alias '{alias}' maps to both '{synonyms[key]}' and '{row.name}'"
                    )
                synonyms[key] = row.name
                aliases.append(alias)
            if aliases:
                blocks_syn.append((row.name, _sorted_unique(aliases)))

    parts = [
        HEADER.rstrip("\n"),
        'version: "3.1"',
        "nlu:",
        _block("lookup", "city", cities),
        _block("lookup", "network", networks),
        _block("lookup", "theme", themes),
    ]
    parts += [_block("synonym", name, aliases) for name, aliases in blocks_syn]
    return "\n".join(parts) + "\n"


def build_names(kb: KnowledgeBase) -> dict[str, object]:
    """Every name the assistant should recognise in a message, by entity, as JSON data.

    Read at run time by the NLU component bot/nlu/kb_entities.py, so that a city or a network
    added to data/kb/ is recognised as soon as the importer has run, without retraining.
    Countries and their adjectives ("polonaises") come from the fixed vocabulary.
    """
    entities: dict[str, list[dict[str, object]]] = {
        "city": [{"value": c.name, "names": [c.name, *c.aliases]} for c in kb.cities],
        "network": [{"value": n.name, "names": [n.name, *n.aliases]} for n in kb.networks],
        "theme": [{"value": t.label, "names": [t.label, *t.synonyms]} for t in kb.themes],
        "country": [{"value": c.name, "names": [c.name, *c.synonyms]} for c in COUNTRIES.values()],
    }
    return {"version": 1, "entities": entities}


def names_file() -> Path:
    return Path(settings.KB_NAMES_FILE.read() or DEFAULT_NAMES_FILE)


def lookups_are_fresh(kb: KnowledgeBase, path: Path) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == build_lookups(kb)


def write_lookups(kb: KnowledgeBase, path: Path) -> bool:
    """Write the lookup file; return True when its content changed."""
    if lookups_are_fresh(kb, path):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_lookups(kb), encoding="utf-8")
    return True


def write_names(kb: KnowledgeBase, path: Path) -> None:
    """Write the names file atomically: a running assistant may be reading it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(build_names(kb), ensure_ascii=False, indent=0), encoding="utf-8")
    os.replace(tmp, path)
