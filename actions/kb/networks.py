"""Network questions: search by criteria, details, lead partner, partners, networks of a city,
and follow-ups ("et pour Lyon ?") that re-run the last query with the new entity.

Every entity or slot value is validated and resolved (actions.kb.normalize) before any query;
the last query is kept in the `last_query` slot as compact JSON, re-validated when read.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Final, Optional, Sequence

from rasa_sdk.events import SlotSet

from actions.kb.action import Context, DatabaseAction
from actions.kb.closest_network import closest
from actions.kb.formatting import (
    NETWORKS_URL,
    button,
    country_name,
    de,
    fr_join,
    in_country,
    kind_label,
    more_button,
    network_line,
    network_when,
    page,
    plural,
    remaining_line,
    type_label,
)
from actions.kb.models import City, Network
from actions.kb.normalize import Resolution, looks_like_name, parse_offset, residual_name
from actions.kb.repository import NetworkQuery
from actions.kb.vocab import NETWORK_TYPES, PAGE_SIZE
from common.text import fold

logger = logging.getLogger(__name__)

FILTERS = ("theme", "city", "country", "network_type", "programme", "year")
# A search filter that no entity sets directly: the country of the networks' lead city
# ("des villes espagnoles chefs de file ?"), set from a country when leads are asked for.
LEAD_COUNTRY = "lead_country"
_ASKS_FOR_LEADS = re.compile(r"\bchef(?:fe)?s? de file\b|\bpilot|\bleader|\bmenent\b|\bmene\b")


def asks_for_leads(text: Any) -> bool:
    """Whether the message asks about lead partners ("chefs de file", "qui pilote")."""
    return isinstance(text, str) and bool(_ASKS_FOR_LEADS.search(fold(text[:500])))


def country_filter(ctx: Context, country: Any) -> dict[str, Any]:
    """The search filter for a country: its lead cities when the message asks for leads."""
    lead = asks_for_leads((ctx.tracker.latest_message or {}).get("text"))
    return {LEAD_COUNTRY if lead else "country": country}
QUERY_KINDS = ("search", "details", "lead", "partners", "city")
MAX_LAST_QUERY = 1000

ENTITY_NOUNS = {
    "network": "réseaux",
    "city": "villes et collectivités partenaires",
    "theme": "thèmes",
    "country": "pays",
    "network_type": "types de réseaux",
    "programme": "programmes",
    "year": "années",
}
EXAMPLE_THEMES = ("jeunesse", "alimentation", "mobilité")

Events = list[dict[str, Any]]


# ----------------------------------------------------------------------------- helpers


def city_label(city: Any) -> str:
    """'Gdańsk (Pologne)', 'Val-de-Marne (département, France)'."""
    country = country_name(city.country_code)
    if city.kind == "city":
        return f"{city.name} ({country})"
    return f"{city.name} ({kind_label(city.kind)}, {country})"


def describe(filters: dict[str, Any], ctx: Context, count: int = 2) -> str:
    """French description of filters: 'réseaux de transfert URBACT IV avec Lyon …'."""
    assert ctx.norm is not None
    singular = count == 1
    if "network_type" in filters:
        t = NETWORK_TYPES[filters["network_type"]]
        noun = t.label if singular else t.plural
    else:
        noun = "réseau" if singular else "réseaux"
    parts = [noun]
    if "programme" in filters:
        parts.append(filters["programme"])
    if "theme" in filters:
        parts.append(f"sur le thème « {ctx.norm.label('theme', filters['theme'])} »")
    if "city" in filters:
        parts.append(f"avec {ctx.norm.label('city', filters['city'])}")
    if "country" in filters:
        parts.append(f"comptant un partenaire {in_country(filters['country'])}")
    if LEAD_COUNTRY in filters:
        parts.append(f"dont le chef de file est {in_country(filters[LEAD_COUNTRY])}")
    if "year" in filters:
        parts.append(f"{'lancé' if singular else 'lancés'} en {filters['year']}")
    return " ".join(parts)


def filter_payload(filters: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Entity values (display labels) that reproduce ``filters`` in a button payload."""
    assert ctx.norm is not None
    return {
        k: (str(v) if k == "year" else ctx.norm.label(k, str(v))) for k, v in filters.items() if k in FILTERS
    }


# Questions about one named city or network, where an untagged name must not be replaced by
# the previous one from the conversation.
NAMED_TARGET_INTENTS = frozenset(
    {"ask_city_networks", "ask_network_details", "ask_network_lead", "ask_network_partners"}
)


def read_entity(ctx: Context, entity: str) -> Optional[tuple[str, Resolution]]:
    """First resolution of ``entity`` in the latest message, as (entity type, resolution).

    A found value wins over an unknown one, an unknown one over an invalid one. A city
    named as a country ("France") or the reverse is returned under the other type.
    """
    assert ctx.norm is not None
    best: Optional[tuple[str, Resolution]] = None
    for value in ctx.entity_values(entity)[:5]:
        res = ctx.norm.resolve(entity, value)
        if res.found:
            return entity, res
        if res.status == "invalid":
            logger.warning("rejected %s entity value (type=%s)", entity, type(value).__name__)
        elif entity in ("city", "country"):
            other = "country" if entity == "city" else "city"
            alt = ctx.norm.resolve(other, value)
            if alt.found and fold(alt.raw or "") == fold(alt.label or ""):
                return other, alt
        if best is None or (best[1].status == "invalid" and res.status == "unknown"):
            best = (entity, res)
    if best is None and entity in ("city", "network") and ctx.intent in NAMED_TARGET_INTENTS:
        # The NLU tagged nothing: a name it does not know may still be there.
        text = (ctx.tracker.latest_message or {}).get("text")
        residual = residual_name(text)
        if residual:
            res = ctx.norm.resolve(entity, residual)
            if res.found or looks_like_name(residual, text):
                return entity, res
    return best


def read_filters(ctx: Context) -> tuple[dict[str, Any], list[tuple[str, Resolution]]]:
    """Valid filters of the latest message and the problems (unknown/invalid values)."""
    filters: dict[str, Any] = {}
    problems: list[tuple[str, Resolution]] = []
    for entity in FILTERS:
        found = read_entity(ctx, entity)
        if found is None:
            continue
        target, res = found
        if res.found and res.value is not None:
            filters.setdefault(target, int(res.value) if target == "year" else res.value)
        else:
            problems.append((target, res))
    return filters, problems


def report_problem(
    ctx: Context, entity: str, res: Resolution, intent: str, keep: Optional[dict[str, Any]] = None
) -> None:
    """Honest 'not found' with up to 3 suggestions as buttons."""
    keep = dict(keep or {})
    noun = ENTITY_NOUNS.get(entity, "valeurs")
    if res.status == "invalid" or not res.raw:
        ctx.say(
            f"Je n'ai pas pu lire la valeur reçue pour ce critère ({noun}). "
            "Pouvez-vous la reformuler ?"
        )
        return
    suggestions = list(res.suggestions)
    if suggestions:
        ctx.say(
            f"{not_found(res.raw, entity, noun)} Vouliez-vous dire :",
            [button(label, intent, **{**keep, entity: label}) for _, label in suggestions],
        )
    elif entity in ("network_type", "programme"):
        options = (
            [button(t.plural.capitalize(), intent, **{**keep, entity: t.plural}) for t in list(NETWORK_TYPES.values())[:4]]
            if entity == "network_type"
            else [button(p, intent, **{**keep, entity: p}) for p in ("URBACT IV", "URBACT III", "URBACT II")]
        )
        ctx.say(f"Je ne reconnais pas « {res.raw} ». Voici les choix possibles :", options)
    else:
        ctx.say(f"{not_found(res.raw, entity, noun)} La liste officielle des réseaux : {NETWORKS_URL}")


def not_found(raw: str, entity: str, noun: str) -> str:
    """A name absent from the knowledge base, said plainly: for a town, that no network was found."""
    if entity == "city":
        return (
            f"« {raw} » ne figure pas parmi les {noun} de ma base : je n'y trouve aucun réseau "
            "URBACT pour cette collectivité (ma base n'est pas exhaustive)."
        )
    return f"« {raw} » ne figure pas parmi les {noun} de ma base, qui n'est pas exhaustive."


# ----------------------------------------------------------------------------- last query


def encode_last_query(query: dict[str, Any]) -> str:
    return json.dumps(query, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def read_last_query(ctx: Context) -> Optional[dict[str, Any]]:
    """The validated last query, or None (slot values are never trusted blindly)."""
    assert ctx.norm is not None
    raw = ctx.slot("last_query")
    if not isinstance(raw, str) or not raw or len(raw) > MAX_LAST_QUERY:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("a") not in QUERY_KINDS:
        return None
    out: dict[str, Any] = {"a": data["a"]}
    filters = data.get("f") or {}
    if not isinstance(filters, dict):
        return None
    clean_filters = {}
    for key, value in filters.items():
        entity = "country" if key == LEAD_COUNTRY else key
        if (key not in FILTERS and key != LEAD_COUNTRY) or not ctx.norm.is_known(entity, value):
            return None
        clean_filters[key] = int(value) if key == "year" else value
    if clean_filters:
        out["f"] = clean_filters
    for key, entity in (("n", "network"), ("c", "city"), ("x", "city"), ("h", "network")):
        if key in data and data[key] is not None:
            if not ctx.norm.is_known(entity, data[key]):
                return None
            out[key] = data[key]
    offset = parse_offset(data.get("o", 0))
    out["o"] = offset or 0
    if out["a"] == "search" and "f" not in out:
        return None
    if "h" in out and out["a"] != "search":
        return None
    if out["a"] in ("details", "lead", "partners") and "n" not in out:
        return None
    if out["a"] == "city" and "c" not in out:
        return None
    return out


def query_events(ctx: Context, query: dict[str, Any], **slots: Any) -> Events:
    events: Events = [
        SlotSet("last_query", encode_last_query(query)),
        SlotSet("results_offset", float(query.get("o", 0))),
    ]
    events += [SlotSet(name, value) for name, value in slots.items()]
    return events


def offset_from_message(ctx: Context) -> Optional[int]:
    for value in ctx.entity_values("results_offset")[:1]:
        offset = parse_offset(value)
        if offset is None:
            logger.warning("rejected results_offset entity value")
        return offset
    return None


# ----------------------------------------------------------------------------- answers


# When a search with several criteria finds nothing, these are dropped one at a time (the
# least telling first) until something is found; the theme and the town are kept.
RELAXED_FIRST: Final[tuple[str, ...]] = ("year", "programme", "network_type", "country", LEAD_COUNTRY)


async def relaxed_filters(ctx: Context, filters: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The criteria of ``filters`` minus the fewest least telling ones that find networks."""
    kept = dict(filters)
    for name in RELAXED_FIRST:
        if name not in kept or len(kept) < 2:
            continue
        del kept[name]
        if await ctx.repo.search_networks(NetworkQuery(**kept)):
            return kept
    return None


async def show_search(ctx: Context, filters: dict[str, Any], offset: int = 0, relax: bool = True) -> Events:
    assert ctx.norm is not None
    if set(filters) == {"city"}:
        return await show_city(ctx, filters["city"], offset)
    results = await ctx.repo.search_networks(NetworkQuery(**filters))
    description = describe(filters, ctx)
    entity_slots = {
        name: (str(filters[name]) if name == "year" else ctx.norm.label(name, filters[name]))
        if name in filters
        else None
        for name in FILTERS
    }
    single = results[0].name if len(results) == 1 else None
    query = {"a": "search", "f": filters, "o": offset}
    if not results and relax:
        kept = await relaxed_filters(ctx, filters)
        if kept is not None:  # "des villes ukrainiennes sur l'accueil des réfugiés en 2022 ?"
            ctx.say(f"Ma base ne contient aucun {describe(filters, ctx, 1)}, mais elle n'est pas exhaustive.")
            return await show_search(ctx, kept, relax=False)
    if not results:
        buttons = []
        if len(filters) > 1:
            labels = filter_payload(filters, ctx)
            for name in labels:
                only = {name: labels[name]}
                title = f"Seulement : {labels[name]}"
                buttons.append(button(title, "search_networks", **only))
        ctx.say(
            f"Ma base ne contient aucun {describe(filters, ctx, 1)}, mais elle n'est pas exhaustive. "
            f"La liste officielle : {NETWORKS_URL}",
            buttons[:4] or None,
        )
        return query_events(ctx, {**query, "o": 0}, network=None, **entity_slots)
    shown, remaining, next_offset = page(results, offset)
    offset = min(offset, max(0, len(results) - 1)) // PAGE_SIZE * PAGE_SIZE
    query["o"] = offset
    if offset == 0:
        header = f"J'ai trouvé {len(results)} {describe(filters, ctx, len(results))} :"
    else:
        header = f"Suite des {description} ({offset + 1}-{offset + len(shown)} sur {len(results)}) :"
    lines = [header, *(network_line(n) for n in shown)]
    if "country" in filters:  # "des villes polonaises ?": say which cities
        cities = await ctx.repo.cities_in_country([n.slug for n in shown], filters["country"])
        lines[1:] = [
            f"{line} – avec {fr_join(cities[n.slug])}" if cities.get(n.slug) else line
            for n, line in zip(shown, lines[1:])
        ]
    # After the country decoration above, which pairs lines[1:] with `shown`.
    focus = await closest_in_list(ctx, filters, results) if offset == 0 else None
    if focus is not None:  # "et c'était mené par qui ?" next is about this one
        query["h"] = focus.slug
    hidden = focus if focus is not None and focus.slug not in {n.slug for n in shown} else None
    if hidden is not None:  # the one the message describes sits on a later page
        lines.insert(1, f"Le plus proche de votre message : {network_line(hidden).lstrip('• ')}")
        lines.insert(2, "Les autres :")
    elif focus is not None and len(shown) > 1:  # in the list: say which one a follow-up is about
        lines.insert(1, f"Le plus proche de votre message : {focus.name}.")
    more = remaining_line(remaining)
    if more:
        lines.append(more)
    lines.append(f"Liste officielle : {NETWORKS_URL}")
    first = focus or shown[0]
    buttons = [button(f"En savoir plus : {first.name}", "ask_network_details", network=first.name)]
    if len(shown) > 1 and focus is None:
        buttons.append(button(f"En savoir plus : {shown[1].name}", "ask_network_details", network=shown[1].name))
    if next_offset is not None:
        buttons.append(more_button(next_offset))
    ctx.say("\n".join(lines), buttons)
    return query_events(ctx, query, network=single, **entity_slots)


MAX_COMPARED: Final[int] = 60
FEW_PARTNERS: Final[int] = 4  # a lead answer names the other partners up to this many
MAX_FOLLOW_UP_NAME_WORDS: Final[int] = 4  # "et saint jean de luz ?"


MAX_THEMES: Final[int] = 4


async def best_theme(ctx: Context, filters: dict[str, Any]) -> str:
    """The theme to search when the message names several ("la culture numérique des jeunes":
    culture, digital, youth; "l'espace public pensé pour les femmes": public space, gender
    equality). The first named, unless the network closest to the person's words among all
    their networks is not on it: then that network's theme (the narrowest if several)."""
    assert ctx.norm is not None
    themes: list[str] = []
    for value in ctx.entity_values("theme")[:MAX_THEMES * 2]:
        res = ctx.norm.resolve("theme", value)
        if res.found and res.value is not None and res.value not in themes:
            themes.append(str(res.value))
    first = str(filters["theme"])
    if len(themes) < 2:
        return first
    results = {t: await ctx.repo.search_networks(NetworkQuery(**{**filters, "theme": t})) for t in themes[:MAX_THEMES]}
    found = {t: r for t, r in results.items() if r}
    if not found:
        return first
    text = str((ctx.tracker.latest_message or {}).get("text") or "")
    union = {n.slug: n for r in found.values() for n in r}  # search results carry name and description
    compared = [union[slug] for slug in sorted(union)[:MAX_COMPARED]]
    slug = closest(text, [(n.slug, f"{n.name} {n.description}") for n in compared])
    holding = [t for t, r in found.items() if slug in {n.slug for n in r}] if slug else []
    if not holding or first in holding:
        return first
    return min(holding, key=lambda t: len(found[t]))


async def closest_in_list(ctx: Context, filters: dict[str, Any], results: Sequence[Network]) -> Optional[Network]:
    """For a theme search with several results: the network whose name and description are
    closest to the person's words, if one clearly is ("une ressourcerie, le réemploi" ->
    Resourceful Cities). Shown first when it sits beyond the first page, and the network a
    follow-up without a name is about ("c'était mené par qui ?")."""
    text = str((ctx.tracker.latest_message or {}).get("text") or "")
    if "theme" not in filters or len(results) < 2 or not text or text.startswith("/"):
        return None
    slug = closest(text, [(n.slug, f"{n.name} {n.description}") for n in results[:MAX_COMPARED]])
    return next((n for n in results if n.slug == slug), None)


def _partner_summary(n: Network) -> str:
    partners = n.partners
    french = [m.city.name for m in partners if m.city.country_code == "FR"]
    if n.lead:
        text = f"Chef de file : {city_label(n.lead)}"
    else:
        text = "Chef de file : non renseigné"
    if partners:
        text += f" ; {plural(len(partners), 'autre partenaire', 'autres partenaires')}"
        if french:
            text += f", dont {fr_join(french)} en France"
    text += "."
    if n.partial:
        text += " Fiche incomplète : le partenariat n'est que partiellement connu."
    return text


async def _network(ctx: Context, slug: str) -> Optional[Network]:
    detail = await ctx.repo.get_network(slug)
    if detail is None:  # removed since the catalogue was cached
        ctx.say(f"Je ne trouve plus ce réseau dans ma base. La liste officielle : {NETWORKS_URL}")
    return detail


async def show_details(ctx: Context, slug: str) -> Events:
    n = await _network(ctx, slug)
    if n is None:
        return []
    when = network_when(n)
    first = f"{n.name} : {type_label(n.type)} {n.programme}" + (f", {when}" if when else "")
    if n.period and re.fullmatch(r"\d{4}-\d{4}", n.period):
        first += f" (période {n.period})"
    first += "."
    lines = [first, n.description, _partner_summary(n)]
    if n.theme_labels:
        lines.append("Thèmes : " + ", ".join(n.theme_labels) + ".")
    lines.append(f"En savoir plus : {n.official_url or NETWORKS_URL}")
    buttons = []
    if n.partners:
        buttons.append(button("Voir les partenaires", "ask_network_partners", network=n.name))
    if n.theme_slugs and ctx.norm:
        theme = ctx.norm.label("theme", n.theme_slugs[0])
        buttons.append(button(f"Autres réseaux : {theme}", "search_networks", theme=theme))
    if n.lead:
        buttons.append(button(f"Réseaux de {n.lead.name}", "ask_city_networks", city=n.lead.name))
    ctx.say("\n".join(lines), buttons or None)
    return query_events(ctx, {"a": "details", "n": n.slug, "o": 0}, network=n.name)


async def show_lead(ctx: Context, slug: str) -> Events:
    n = await _network(ctx, slug)
    if n is None:
        return []
    if n.lead:
        text = f"Le chef de file {de(n.name)} est {city_label(n.lead)}."
        if n.partners and len(n.partners) <= FEW_PARTNERS:  # "qui est dedans ?" is often the same question
            others = "Son autre partenaire" if len(n.partners) == 1 else "Ses autres partenaires"
            text += f" {others} dans ma base : {fr_join([city_label(m.city) for m in n.partners])}."
        elif n.partners:
            text += f" Le réseau compte {plural(len(n.partners), 'autre partenaire', 'autres partenaires')}."
    else:
        text = (
            f"Ma base ne précise pas le chef de file {de(n.name)} : la fiche est incomplète."
        )
    text += f"\nEn savoir plus : {n.official_url or NETWORKS_URL}"
    buttons = []
    if n.partners:
        buttons.append(button("Voir les partenaires", "ask_network_partners", network=n.name))
    buttons.append(button(f"Présentation {de(n.name)}", "ask_network_details", network=n.name))
    if n.lead:
        buttons.append(button(f"Réseaux de {n.lead.name}", "ask_city_networks", city=n.lead.name))
    ctx.say(text, buttons)
    return query_events(ctx, {"a": "lead", "n": n.slug, "o": 0}, network=n.name)


async def show_partners(
    ctx: Context, slug: str, offset: int = 0, exclude: Optional[str] = None, country: Optional[str] = None
) -> Events:
    n = await _network(ctx, slug)
    if n is None:
        return []
    if country is not None:  # "qui d'autre en France ?" after a network
        return _partners_in(ctx, n, country, exclude)
    members = [m for m in n.members if m.city.slug != exclude]
    excluded = next((m.city for m in n.members if m.city.slug == exclude), None)
    query: dict[str, Any] = {"a": "partners", "n": n.slug, "o": 0}
    if excluded:
        query["x"] = excluded.slug
    if not members:
        ctx.say(
            f"Ma base ne connaît pas d'autre partenaire {de(n.name)} (fiche incomplète). "
            f"Voir : {n.official_url or NETWORKS_URL}",
            [button(f"Présentation {de(n.name)}", "ask_network_details", network=n.name)],
        )
        return query_events(ctx, query, network=n.name)
    shown, remaining, next_offset = page(members, offset)
    offset = min(offset, max(0, len(members) - 1)) // PAGE_SIZE * PAGE_SIZE
    query["o"] = offset
    if offset:
        header = f"Suite des partenaires {de(n.name)} ({offset + 1}-{offset + len(shown)} sur {len(members)}) :"
    elif excluded:
        header = f"Avec {excluded.name} dans {n.name}, ma base compte {plural(len(members), 'partenaire')} :"
    else:
        header = f"{n.name} réunit {plural(len(members), 'partenaire')} dans ma base :"
    lines = [header]
    for m in shown:
        lines.append(f"• {city_label(m.city)}" + (" – chef de file" if m.role == "lead" else ""))
    more = remaining_line(remaining)
    if more:
        lines.append(more)
    if n.partial:
        lines.append("Fiche incomplète : d'autres partenaires peuvent manquer.")
    lines.append(f"En savoir plus : {n.official_url or NETWORKS_URL}")
    buttons = []
    if next_offset is not None:
        buttons.append(more_button(next_offset))
    french = [m.city for m in members if m.city.country_code == "FR"]
    if french:
        buttons.append(button(f"Réseaux de {french[0].name}", "ask_city_networks", city=french[0].name))
    buttons.append(button(f"Présentation {de(n.name)}", "ask_network_details", network=n.name))
    ctx.say("\n".join(lines), buttons)
    return query_events(ctx, query, network=n.name)


def _partners_in(ctx: Context, n: Network, country: str, exclude: Optional[str]) -> Events:
    assert ctx.norm is not None
    where = ctx.norm.label("country", country) or country
    members = [m for m in n.members if m.city.country_code == country and m.city.slug != exclude]
    if members:
        names = [m.city.name + (" (chef de file)" if m.role == "lead" else "") for m in members]
        text = f"Dans {n.name}, ma base compte {plural(len(members), 'partenaire')} en {where} : {fr_join(names)}."
    else:
        text = f"Ma base ne compte aucun partenaire {de(n.name)} en {where} (elle n'est pas exhaustive)."
    if n.lead and not any(m.role == "lead" for m in members):  # "qui le pilotait et y avait-il des Français ?"
        text += f" Son chef de file : {city_label(n.lead)}."
    ctx.say(text, [button("Voir tous les partenaires", "ask_network_partners", network=n.name)])
    return query_events(ctx, {"a": "partners", "n": n.slug, "o": 0}, network=n.name)


async def show_city(ctx: Context, slug: str, offset: int = 0) -> Events:
    c: Optional[City] = await ctx.repo.get_city(slug)
    if c is None:
        ctx.say(f"Je ne trouve plus cette collectivité dans ma base. Voir : {NETWORKS_URL}")
        return []
    query = {"a": "city", "c": c.slug, "o": 0}
    related = (await ctx.repo.cities(c.see_also))[:2]
    see_also = [button(f"Voir aussi : {o.name}", "ask_city_networks", city=o.name) for o in related]
    # "clermont ?": the town and its metropolis are two partners; name the other's networks too
    see_also_lines = [
        f"Voir aussi {o.name} : {fr_join([m.network.name for m in o.participations[:3]])}"
        + (" …" if len(o.participations) > 3 else "") + "."
        for o in related if o.participations
    ] if offset == 0 else []
    if not c.participations:
        text = f"Je n'ai encore aucun réseau renseigné pour {city_label(c)}."
        if c.note:
            text += f"\n{c.note}"
        text += "".join(f"\n{line}" for line in see_also_lines)
        text += f"\nLa liste officielle des réseaux : {NETWORKS_URL}"
        ctx.say(text, see_also or None)
        return query_events(ctx, query, city=c.name, network=None)
    shown, remaining, next_offset = page(c.participations, offset)
    offset = min(offset, max(0, len(c.participations) - 1)) // PAGE_SIZE * PAGE_SIZE
    query["o"] = offset
    count = plural(len(c.participations), "réseau", "réseaux")
    if offset:
        header = f"Suite des réseaux de {c.name} ({offset + 1}-{offset + len(shown)} sur {len(c.participations)}) :"
    else:
        header = f"{city_label(c)} participe à {count} de ma base :"
    lines = [header, *(network_line(m.network, m.role) for m in shown)]
    more = remaining_line(remaining)
    if more:
        lines.append(more)
    if c.note and offset == 0:
        lines.append(f"À noter : {c.note}")
    lines += see_also_lines
    buttons = []
    if next_offset is not None:
        buttons.append(more_button(next_offset))
    first = shown[0].network
    if len(c.participations) == 1:
        buttons.append(button("Les autres villes du réseau", "ask_network_partners", network=first.name))
    buttons.append(button(f"En savoir plus : {first.name}", "ask_network_details", network=first.name))
    buttons += see_also
    ctx.say("\n".join(lines), buttons[:4])
    single = first.name if len(c.participations) == 1 else None
    return query_events(ctx, query, city=c.name, network=single)


# ----------------------------------------------------------------------------- target network


_ORDINALS = (
    (re.compile(r"\b(premier|premiere|1er|1ere|1re)\b"), 0),
    (re.compile(r"\b(deuxieme|second|seconde|2e|2eme|2nd|2nde)\b"), 1),
    (re.compile(r"\b(troisieme|3e|3eme)\b"), 2),
    (re.compile(r"\b(quatrieme|4e|4eme)\b"), 3),
    (re.compile(r"\b(cinquieme|5e|5eme)\b"), 4),
    (re.compile(r"\b(dernier|derniere)\b"), -1),
)


# "c'était sur quoi", "ça parlait de quoi", "ça consiste en quoi": the question also asks what
# the network is about (folded; apostrophes become spaces)
_ASKS_WHAT_IT_IS = re.compile(
    r"\b(de quoi|sur quoi|en quoi|c est quoi|c etait quoi|concern\w* quoi|consist\w*|objectifs?|sujet)\b"
)


def asks_what_it_is(ctx: Context) -> bool:
    """Whether the message also asks what a network is about ("c'était sur quoi, et qui le
    pilotait ?"): its details answer both, lead and French partners included."""
    text = (ctx.tracker.latest_message or {}).get("text")
    return isinstance(text, str) and bool(_ASKS_WHAT_IT_IS.search(fold(text[:500]).replace("'", " ")))


def ordinal_in(text: Any) -> Optional[int]:
    """Position pointed at in the last list ("le deuxième", "du premier", "le dernier")."""
    if not isinstance(text, str):
        return None
    folded = fold(text[:300])
    for pattern, index in _ORDINALS:
        if pattern.search(folded):
            return index
    return None


async def _last_list(ctx: Context, last: Optional[dict[str, Any]]) -> list[Network]:
    """The networks the last answer listed, in the order shown (with their leads loaded)."""
    if not last:
        return []
    if last["a"] == "city":
        city = await ctx.repo.get_city(last["c"])
        return [m.network for m in city.participations] if city else []
    if last["a"] == "search":
        return list(await ctx.repo.search_networks(NetworkQuery(**last["f"])))
    return []


async def narrowed_from_list(ctx: Context) -> Optional[str]:
    """The one network of the last list that the message's criteria single out.

    "celui qui a démarré en 2019, il regroupait quelles villes ?", "et celui où il y avait
    Romans, qui le pilotait ?" after a list of networks: the year, town, theme or country of
    the message, added to the list's own criteria, leave one network.
    """
    if ctx.has_entity("network"):
        return None
    last = read_last_query(ctx)
    if not last or last["a"] not in ("search", "city"):
        return None
    added, _problems = read_filters(ctx)
    added.pop(LEAD_COUNTRY, None)
    if not added:  # most follow-ups name no criterion: no database query for them
        return None
    base = dict(last.get("f", {})) if last["a"] == "search" else {"city": last["c"]}
    if any(name in base and base[name] != value for name, value in added.items()):
        return None  # another town or theme than the list's: a new question, not a pointer
    listed = await _last_list(ctx, last)
    if len(listed) < 2:
        return None
    matching = {n.slug for n in await ctx.repo.search_networks(NetworkQuery(**{**base, **added}))}
    singled = [n.slug for n in listed if n.slug in matching]
    return singled[0] if len(singled) == 1 else None


async def network_from_context(ctx: Context, intent: str) -> tuple[Optional[str], Optional[str], bool]:
    """(network slug, city to exclude, asked) when the message names no network.

    Uses the last query (a network, a city in a single network, a one-result search, or
    the n-th network of the last list: "le deuxième", "du premier"), then the validated
    `network` slot; otherwise asks which network, with buttons.
    """
    assert ctx.norm is not None
    last = read_last_query(ctx)
    listed = await _last_list(ctx, last)
    position = ordinal_in((ctx.tracker.latest_message or {}).get("text"))
    if listed and position is not None:
        start = int(last.get("o", 0)) if last and position >= 0 else 0
        index = start + position if position >= 0 else len(listed) - 1
        if 0 <= index < len(listed):
            exclude = last["c"] if last and last["a"] == "city" else None
            return listed[index].slug, exclude, False
    if last and last["a"] in ("details", "lead", "partners"):
        return last["n"], last.get("x"), False
    if last and last["a"] == "search" and last.get("h"):  # the one closest to the person's words
        return last["h"], None, False
    if last and last["a"] == "city" and len(listed) == 1:
        return listed[0].slug, last["c"], False
    if last and last["a"] == "search" and len(listed) == 1:
        return listed[0].slug, None, False
    choices = [n.name for n in listed]
    slot = ctx.norm.resolve("network", ctx.slot("network")) if ctx.slot("network") else None
    if slot and slot.found and not choices:
        return slot.value, None, False
    if choices:
        ctx.say(
            "De quel réseau parlez-vous ?",
            [button(name, intent, network=name) for name in choices[:PAGE_SIZE]],
        )
    else:
        ctx.say("De quel réseau parlez-vous ? Donnez-moi son nom, par exemple BoostInno ou Eat4Climate.")
    return None, None, True


def named_only(ctx: Context, entity: str, instead_of: str) -> Optional[str]:
    """The known ``entity`` (slug) of a message that names one and no ``instead_of``.

    The intent may mistake a network for a town or the reverse; a name of the knowledge
    base is surer than the intent, so the action answers about what was named.
    """
    if ctx.has_entity(instead_of) or not ctx.has_entity(entity):
        return None
    if ordinal_in((ctx.tracker.latest_message or {}).get("text")) is not None:
        return None
    found = read_entity(ctx, entity)
    if found is None or found[0] != entity or not found[1].found or found[1].value is None:
        return None
    return str(found[1].value)


async def resolve_network_or_ask(ctx: Context, intent: str) -> tuple[Optional[str], Optional[str]]:
    if not ctx.has_entity("network") and ordinal_in((ctx.tracker.latest_message or {}).get("text")) is not None:
        slug, exclude, _asked = await network_from_context(ctx, intent)
        return slug, exclude
    found = read_entity(ctx, "network")
    if found is not None:
        res = found[1]
        if res.found:
            return res.value, None
        report_problem(ctx, "network", res, intent)
        return None, None
    slug, exclude, _asked = await network_from_context(ctx, intent)
    return slug, exclude


# ----------------------------------------------------------------------------- actions


class ActionSearchNetworks(DatabaseAction):
    def name(self) -> str:
        return "action_search_networks"

    async def answer(self, ctx: Context) -> Events:
        filters, problems = read_filters(ctx)
        if problems:
            entity, res = problems[0]
            report_problem(ctx, entity, res, "search_networks", keep=filter_payload(filters, ctx))
            return [SlotSet(entity, None)]
        if "country" in filters:  # "des villes espagnoles chefs de file ?": the lead's country
            filters.update(country_filter(ctx, filters.pop("country")))
        named = read_entity(ctx, "network") if ctx.has_entity("network") else None
        if named and named[0] == "network" and named[1].found and named[1].value is not None:
            # "le reseau refil, sur les batiments vides", "civic estate, un reseau sur les
            # communs avec naples ?": a named network is what the person asks about
            return await show_details(ctx, str(named[1].value))
        if "theme" in filters:  # "l'espace public pensé pour les femmes, les cours d'école..."
            filters["theme"] = await best_theme(ctx, filters)
        if not filters:
            last = read_last_query(ctx)
            if last and last["a"] == "search" and last["f"]:  # "il y a deja eu des reseaux la dessus ?"
                return await show_search(ctx, dict(last["f"]))
            ctx.say(
                "Je peux chercher des réseaux par thème, ville, pays, type, programme ou année. "
                "Quel critère vous intéresse ?",
                [button(f"Thème : {t}", "search_networks", theme=t) for t in EXAMPLE_THEMES]
                + [button("URBACT IV en France", "search_networks", programme="URBACT IV", country="France")],
            )
            return []
        return await show_search(ctx, filters)


class ActionNetworkDetails(DatabaseAction):
    def name(self) -> str:
        return "action_network_details"

    async def answer(self, ctx: Context) -> Events:
        city = named_only(ctx, "city", "network")
        if city is not None:  # "et mouans sartoux, c'etait quoi ?": the entity decides
            return await show_city(ctx, city)
        singled = await narrowed_from_list(ctx)
        if singled is not None:  # "celui sur l'égalité, il parlait de quoi ?"
            return await show_details(ctx, singled)
        slug, _ = await resolve_network_or_ask(ctx, "ask_network_details")
        return await show_details(ctx, slug) if slug else [SlotSet("network", None)]


class ActionNetworkLead(DatabaseAction):
    def name(self) -> str:
        return "action_network_lead"

    async def answer(self, ctx: Context) -> Events:
        singled = await narrowed_from_list(ctx)
        if singled is not None:  # "et celui où il y avait romans, qui le pilotait ?"
            return await show_lead(ctx, singled)
        led = await self._led_by_last_city(ctx)
        if led is not None:
            return led
        country = self._lead_country(ctx)
        if country is not None:  # "quelles villes françaises pilotent un réseau ?"
            return await show_search(ctx, {LEAD_COUNTRY: country})
        if await self._leads_of_last_list(ctx):
            return []
        slug, _ = await resolve_network_or_ask(ctx, "ask_network_lead")
        if slug and asks_what_it_is(ctx):  # "c'était sur quoi, et qui le pilotait ?"
            return await show_details(ctx, slug)
        return await show_lead(ctx, slug) if slug else [SlotSet("network", None)]

    @staticmethod
    def _lead_country(ctx: Context) -> Optional[str]:
        """The country of a lead question that names a country and no network, outside a
        conversation about one network (there, "et en France ?" is about that network)."""
        if ctx.has_entity("network") or ctx.has_entity("city") or not ctx.has_entity("country"):
            return None
        if ordinal_in((ctx.tracker.latest_message or {}).get("text")) is not None:
            return None
        last = read_last_query(ctx)
        if last and last["a"] in ("details", "lead", "partners"):
            return None
        found = read_entity(ctx, "country")
        if found is None or found[0] != "country" or not found[1].found or found[1].value is None:
            return None
        return str(found[1].value)

    @staticmethod
    async def _leads_of_last_list(ctx: Context) -> bool:
        """"Qui est le chef de file ?" right after a list of several networks, none closer
        than the others to the person's words: the lead of each network of the page shown
        (rather than asking which network). Says it and returns True, or returns False."""
        if ctx.has_entity("network") or ordinal_in((ctx.tracker.latest_message or {}).get("text")) is not None:
            return False
        last = read_last_query(ctx)
        if not last or last["a"] not in ("search", "city") or last.get("h"):
            return False
        listed = await _last_list(ctx, last)
        if len(listed) < 2:
            return False
        start = int(last.get("o", 0))
        page_shown = listed[start:start + PAGE_SIZE]  # the list's own networks carry their lead
        lines = ["Les chefs de file des réseaux de cette liste :"]
        lines += [f"• {n.name} : {city_label(n.lead)}" if n.lead else f"• {n.name} : non précisé dans ma base"
                  for n in page_shown]
        ctx.say("\n".join(lines), [button(n.name, "ask_network_details", network=n.name) for n in page_shown[:2]])
        return True

    @staticmethod
    async def _led_by_last_city(ctx: Context) -> Optional[Events]:
        """The networks a city leads: "agen elle pilote quoi ?", or "lequel elle pilote ?"
        after the networks of a city."""
        if ctx.has_entity("network") or ordinal_in((ctx.tracker.latest_message or {}).get("text")) is not None:
            return None
        named = read_entity(ctx, "city") if ctx.has_entity("city") else None
        if named and named[0] == "city" and named[1].found and named[1].value:
            slug, single_is_enough = named[1].value, True
        else:
            last = read_last_query(ctx)
            if not last or last["a"] != "city":
                return None
            slug, single_is_enough = last["c"], False
        city = await ctx.repo.get_city(slug)
        if city is None or not city.participations or (len(city.participations) < 2 and not single_is_enough):
            return None
        led = [m.network for m in city.participations if m.role == "lead"]
        if not led:
            ctx.say(
                f"D'après ma base, {city.name} n'est chef de file d'aucun de ses réseaux. "
                "De quel réseau voulez-vous connaître le chef de file ?",
                [button(m.network.name, "ask_network_lead", network=m.network.name) for m in city.participations[:PAGE_SIZE]],
            )
            return []
        ctx.say(
            f"{city.name} est chef de file de {fr_join([n.name for n in led])}.",
            [button(f"En savoir plus : {led[0].name}", "ask_network_details", network=led[0].name)],
        )
        return query_events(ctx, {"a": "lead", "n": led[0].slug, "o": 0}, network=led[0].name)


class ActionNetworkPartners(DatabaseAction):
    def name(self) -> str:
        return "action_network_partners"

    async def answer(self, ctx: Context) -> Events:
        singled = await narrowed_from_list(ctx)
        if singled is not None:  # "celui qui a démarré en 2019, il regroupait quelles villes ?"
            return await show_partners(ctx, singled, 0, None)
        country = read_entity(ctx, "country") if not ctx.has_entity("network") else None
        if country and country[1].found:
            last = read_last_query(ctx)
            if last and last["a"] in ("details", "lead", "partners"):  # "des villes françaises dedans ?"
                return await show_partners(ctx, last["n"], 0, last.get("x"), country=country[1].value)
            if last and last["a"] == "search":  # "des villes françaises y étaient ?" after a list
                return await show_search(ctx, {**last["f"], "country": country[1].value})
            if last is None:  # "des villes belges ?"
                return await show_search(ctx, {"country": country[1].value})
        slug, exclude = await resolve_network_or_ask(ctx, "ask_network_partners")
        if slug and asks_what_it_is(ctx):  # "ça parlait de quoi, et qui était dedans ?"
            return await show_details(ctx, slug)
        return await show_partners(ctx, slug, 0, exclude) if slug else [SlotSet("network", None)]


class ActionCityNetworks(DatabaseAction):
    def name(self) -> str:
        return "action_city_networks"

    async def answer(self, ctx: Context) -> Events:
        network = named_only(ctx, "network", "city")
        if network is not None:  # "agri urban c'etait quoi ?": the entity decides
            return await show_details(ctx, network)
        named = read_entity(ctx, "network") if ctx.has_entity("network") and asks_what_it_is(ctx) else None
        if named and named[0] == "network" and named[1].found and named[1].value is not None:
            # "techtown ça concernait quoi, et clermont ferrand y était ?": the details name both
            return await show_details(ctx, str(named[1].value))
        country = read_entity(ctx, "country") if not ctx.has_entity("city") else None
        if country and country[1].found:  # "quelles villes polonaises ?"
            return await show_search(ctx, country_filter(ctx, country[1].value))
        found = read_entity(ctx, "city")
        res = found[1] if found else None
        if found and res and res.found and found[0] == "country":
            return await show_search(ctx, country_filter(ctx, res.value))
        if res is not None and not res.found:
            report_problem(ctx, "city", res, "ask_city_networks")
            return [SlotSet("city", None)]
        slug = res.value if res is not None else None
        if slug is None:
            last = read_last_query(ctx)
            if last and last["a"] == "city":
                slug = last["c"]
            elif last and last["a"] == "search" and "country" in last["f"]:
                # "des villes norvégiennes ?" then "dans quels réseaux ?": that country's networks
                return await show_search(ctx, {"country": last["f"]["country"]})
            elif ctx.slot("city"):
                slot = ctx.norm.resolve("city", ctx.slot("city")) if ctx.norm else None
                slug = slot.value if slot and slot.found else None
        if slug is None:
            ctx.say(
                "Quelle ville ou collectivité vous intéresse ? Par exemple : Mouans-Sartoux, Nantes ou Romans-sur-Isère.",
                [button(c, "ask_city_networks", city=c) for c in ("Mouans-Sartoux", "Nantes", "Romans-sur-Isère")],
            )
            return [SlotSet("city", None)]
        return await show_city(ctx, slug)


class ActionInform(DatabaseAction):
    """Follow-up: re-run the last query with the new entity (or the next page)."""

    def name(self) -> str:
        return "action_inform"

    async def answer(self, ctx: Context) -> Events:
        last = read_last_query(ctx)
        offset = offset_from_message(ctx)
        filters, problems = read_filters(ctx)
        found = read_entity(ctx, "network")
        network = found[1] if found else None

        if problems:
            entity, res = problems[0]
            report_problem(ctx, entity, res, "inform")
            return [SlotSet(entity, None)]
        if network is not None and not network.found:
            report_problem(ctx, "network", network, "inform")
            return [SlotSet("network", None)]

        if offset is not None and not filters and network is None:
            if last is None:
                ctx.say("Je n'ai pas de liste en cours à compléter. Que cherchez-vous ?")
                return []
            return await self._rerun(ctx, last, offset)

        if network is not None and network.value:
            kind = last["a"] if last and last["a"] in ("details", "lead", "partners") else "details"
            return await self._rerun(ctx, {"a": kind, "n": network.value, "o": 0}, 0)

        if not filters and network is None and last and last["a"] == "city":
            # "et villeurbanne ?" after a town's networks: a town the NLU did not tag
            residual = residual_name((ctx.tracker.latest_message or {}).get("text"))
            if residual and len(residual.split()) <= MAX_FOLLOW_UP_NAME_WORDS and ctx.norm is not None:
                res = ctx.norm.resolve("city", residual)
                if res.found and res.value is not None:
                    return await show_city(ctx, str(res.value))
                report_problem(ctx, "city", res, "ask_city_networks")
                return [SlotSet("city", None)]
        if not filters:
            if ctx.has_entity("results_offset"):
                ctx.say("Je n'ai pas pu lire la page demandée. Que cherchez-vous ?")
                return [SlotSet("results_offset", 0.0)]
            ctx.say(
                "Pouvez-vous préciser ? Donnez-moi par exemple une ville, un réseau ou un thème.",
                [button(f"Thème : {t}", "search_networks", theme=t) for t in EXAMPLE_THEMES],
            )
            return []

        if last and last["a"] in ("details", "lead", "partners") and set(filters) == {"country"}:
            return await show_partners(ctx, last["n"], 0, last.get("x"), country=filters["country"])
        if last and last["a"] == "search":
            merged = {**last.get("f", {}), **filters}
            return await show_search(ctx, merged)
        if set(filters) == {"city"}:
            return await show_city(ctx, filters["city"])
        if last and last["a"] == "city" and "city" not in filters:
            return await show_search(ctx, {"city": last["c"], **filters})
        return await show_search(ctx, filters)

    async def _rerun(self, ctx: Context, query: dict[str, Any], offset: int) -> Events:
        kind = query["a"]
        if kind == "search":
            return await show_search(ctx, query["f"], offset)
        if kind == "city":
            return await show_city(ctx, query["c"], offset)
        if kind == "partners":
            return await show_partners(ctx, query["n"], offset, query.get("x"))
        if kind == "lead":
            return await show_lead(ctx, query["n"])
        return await show_details(ctx, query["n"])

