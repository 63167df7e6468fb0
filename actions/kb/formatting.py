"""French formatting helpers shared by the database actions (dates, lists, buttons)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Optional, Sequence

from actions.kb.models import Network
from actions.kb.vocab import CITY_KINDS, COUNTRIES, NETWORK_TYPES, PAGE_SIZE
from common.text import fold

NETWORKS_URL = "https://urbact.eu/all-networks"
GET_INVOLVED_URL = "https://urbact.eu/get-involved"
FRANCE_URL = "https://urbact.eu/france-et-luxembourg"

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

SHORT_TYPES = {
    "action_planning": "planification d'action",
    "transfer": "transfert",
    "implementation": "mise en œuvre",
    "innovation_transfer": "transfert d'innovation",
    "thematic_urbact2": "réseau thématique",
}


def fr_date(value: date) -> str:
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def fr_join(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " et " + items[-1]


def fr_amount(euros: int) -> str:
    if euros >= 1_000_000 and euros % 100_000 == 0:
        millions = euros / 1_000_000
        text = f"{millions:.1f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"{text} M€"
    return f"{euros:,}".replace(",", "\u202f") + " €"


def country_name(code: str) -> str:
    country = COUNTRIES.get(code)
    return country.name if country else code


def kind_label(kind: str) -> str:
    return CITY_KINDS.get(kind, kind)


def type_label(code: str) -> str:
    t = NETWORK_TYPES.get(code)
    return t.label if t else code


def plural(count: int, singular: str, plural_form: Optional[str] = None) -> str:
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def network_when(n: Network) -> str:
    """'approuvé le 25 juin 2019' / 'lancé en 2015' / ''."""
    if n.approved_on and n.approved_precision == "day":
        return f"approuvé le {fr_date(n.approved_on)}"
    if n.approved_on:
        return f"lancé en {n.approved_on.year}"
    if n.start_year:
        return f"débuté en {n.start_year}"
    return ""


def network_line(n: Network, role: Optional[str] = None) -> str:
    bits = [SHORT_TYPES.get(n.type, n.type), n.programme]
    if n.start_year:
        bits.append(str(n.start_year))
    line = f"• {n.name} ({', '.join(bits)})"
    if role == "lead":
        line += " – chef de file"
    elif role is None and n.lead:
        line += f" – chef de file : {n.lead.name}"
    return line


def payload(intent: str, **entities: Any) -> str:
    """A Rasa button payload: /intent{"entity": "value"} (JSON, UTF-8 kept)."""
    clean = {k: v for k, v in entities.items() if v is not None and v != ""}
    if not clean:
        return f"/{intent}"
    return f"/{intent}" + json.dumps(clean, ensure_ascii=False, separators=(",", ":"))


def button(title: str, intent: str, **entities: Any) -> dict[str, str]:
    return {"title": title[:80], "payload": payload(intent, **entities)}


def more_button(next_offset: int) -> dict[str, str]:
    return button("Voir la suite", "inform", results_offset=next_offset)


def page(items: Sequence[Any], offset: int) -> tuple[Sequence[Any], int, Optional[int]]:
    """(items of this page, number left after it, next offset or None)."""
    offset = max(0, min(offset, max(0, len(items) - 1)))
    offset -= offset % PAGE_SIZE
    shown = items[offset : offset + PAGE_SIZE]
    remaining = max(0, len(items) - offset - len(shown))
    return shown, remaining, (offset + PAGE_SIZE if remaining else None)


def remaining_line(remaining: int) -> Optional[str]:
    if remaining <= 0:
        return None
    return f"… et {plural(remaining, 'autre')}."


def de(name: str) -> str:
    """French 'de' with elision: "d'Eat4Climate", "de BoostInno"."""
    return "d'" + name if fold(name[:1]) in "aeiouyh" else "de " + name


def in_country(code: str) -> str:
    name = country_name(code)
    if code == "NL":
        return "aux " + name
    if code in ("PT", "LU", "DK", "GB", "ME"):
        return "au " + name
    return "en " + name
