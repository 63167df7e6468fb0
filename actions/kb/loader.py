"""Parse and validate the knowledge-base CSV files in data/kb/ (no database needed).

Every problem is reported as ``<file>:<line>: <what is wrong>`` and nothing is returned
unless every row of every file is valid, so the importer can refuse a bad data set as a
whole. Line numbers are the physical line numbers of the CSV file (header = line 1).

Conventions of the CSV files (UTF-8, comma separated, quoted when needed):
- list cells (aliases, synonyms, themes, see_also) are separated by ";"
- source_urls cells hold one or more URLs separated by " | " (as in the shared dataset);
  "seed:<id>" references a document of /work/shared/seed (the brochure)
- dates are ISO (YYYY-MM-DD); approved_on also accepts a bare year (YYYY)
- booleans are true/false (oui/non accepted)
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, TypeVar

from actions.kb.models import City, ContactPoint, FundingCall, Membership, Network, Theme
from actions.kb.vocab import (
    CALL_KINDS,
    CITY_KINDS,
    COUNTRIES,
    MEMBERSHIP_ROLES,
    NETWORK_TYPES,
    PROGRAMMES,
)
from common.text import normalise_name

FILES = {
    "themes": "themes.csv",
    "cities": "cities.csv",
    "networks": "networks.csv",
    "memberships": "memberships.csv",
    "calls": "calls.csv",
    "contact_points": "contact_points.csv",
}

COLUMNS: dict[str, tuple[str, ...]] = {
    "themes": ("slug", "label", "synonyms"),
    "cities": (
        "slug",
        "name",
        "aliases",
        "country",
        "kind",
        "see_also",
        "note",
        "source_urls",
    ),
    "networks": (
        "slug",
        "name",
        "aliases",
        "type",
        "programme",
        "period",
        "approved_on",
        "themes",
        "description",
        "official_url",
        "partial",
        "source_urls",
    ),
    "memberships": ("network", "city", "role", "source_urls"),
    "calls": (
        "slug",
        "name",
        "kind",
        "funder",
        "opens_on",
        "closes_on",
        "eligibility",
        "max_budget_eur",
        "url",
        "description",
        "source_urls",
    ),
    "contact_points": (
        "slug",
        "country",
        "organisation",
        "person",
        "role",
        "as_of",
        "url",
        "source_urls",
    ),
}

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL_RE = re.compile(r"^https?://[^\s|<>\"]+$")
SEED_RE = re.compile(r"^seed:[A-Za-z0-9_.-]+$")
PERIOD_RE = re.compile(r"^(\d{4})(?:-(\d{4})?)?$")
YEAR_MIN, YEAR_MAX = 1990, 2040
MAX_NAME = 200
MAX_TEXT = 2000


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class KnowledgeBase:
    """Every record of data/kb, validated and linked (network themes, memberships, leads)."""

    themes: tuple[Theme, ...]
    cities: tuple[City, ...]
    networks: tuple[Network, ...]
    memberships: tuple[Membership, ...]
    calls: tuple[FundingCall, ...]
    contact_points: tuple[ContactPoint, ...]


@dataclass(frozen=True)
class LoadError:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class DataValidationError(Exception):
    def __init__(self, errors: list[LoadError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


# --------------------------------------------------------------------------- cells


class CellError(ValueError):
    pass


def has_control_chars(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


def _text(value: str, column: str, *, required: bool, max_len: int = MAX_NAME) -> str:
    value = value.strip()
    if required and not value:
        raise CellError(f"column '{column}' is empty")
    if len(value) > max_len:
        raise CellError(f"column '{column}' is longer than {max_len} characters")
    if has_control_chars(value.replace("\n", " ")):
        raise CellError(f"column '{column}' contains control characters")
    return value


# Every character Python (and YAML 1.1) treats as a line break: a name or an alias written
# into data/nlu/lookups.yml must stay on its line, or it could add YAML of its own.
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _line(value: str, column: str, *, required: bool = True) -> str:
    """A single-line text cell: names, aliases, labels and synonyms (they go to lookups.yml)."""
    if any(ch in LINE_BREAKS for ch in value.strip()):
        raise CellError(
            f"colonne '{column}' : retour à la ligne interdit (un nom, un alias ou un synonyme "
            "tient sur une seule ligne)"
        )
    return _text(value, column, required=required)


def _optional_text(value: str, column: str, max_len: int = MAX_TEXT) -> Optional[str]:
    return _text(value, column, required=False, max_len=max_len) or None


def _list(value: str, column: str) -> tuple[str, ...]:
    items = [item.strip() for item in value.split(";")]
    if value.strip() and any(not item for item in items):
        raise CellError(f"column '{column}' has an empty item (stray ';')")
    return tuple(_line(item, column) for item in items if item)


def _slug(value: str, column: str = "slug") -> str:
    value = value.strip()
    if not SLUG_RE.match(value):
        raise CellError(
            f"column '{column}': '{value}' is not a valid slug (lowercase letters, digits, '-')"
        )
    return value


def _url(value: str, column: str, *, required: bool = False) -> Optional[str]:
    value = value.strip()
    if not value:
        if required:
            raise CellError(f"column '{column}' is empty")
        return None
    if not URL_RE.match(value):
        raise CellError(f"column '{column}': '{value}' is not an http(s) URL")
    return value


def _sources(value: str, column: str = "source_urls", *, required: bool = True) -> tuple[str, ...]:
    items = [item.strip() for item in value.split("|")]
    items = [item for item in items if item]
    if required and not items:
        raise CellError(f"column '{column}' needs at least one source URL")
    for item in items:
        if not (URL_RE.match(item) or SEED_RE.match(item)):
            raise CellError(f"column '{column}': '{item}' is not an http(s) URL or seed:<id>")
    if len(set(items)) != len(items):
        raise CellError(f"column '{column}' lists the same URL twice")
    return tuple(items)


def _date(value: str, column: str) -> Optional[date]:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise CellError(f"column '{column}': '{value}' is not a date (YYYY-MM-DD)") from None
    if not YEAR_MIN <= parsed.year <= YEAR_MAX:
        raise CellError(f"column '{column}': year {parsed.year} is out of range")
    return parsed


def _approved(value: str) -> tuple[Optional[date], Optional[str]]:
    value = value.strip()
    if not value:
        return None, None
    if re.fullmatch(r"\d{4}", value):
        year = int(value)
        if not YEAR_MIN <= year <= YEAR_MAX:
            raise CellError(f"column 'approved_on': year {year} is out of range")
        return date(year, 1, 1), "year"
    return _date(value, "approved_on"), "day"


def _period(value: str) -> tuple[Optional[str], Optional[int], Optional[int]]:
    value = value.strip()
    if not value:
        return None, None, None
    match = PERIOD_RE.match(value)
    if not match:
        raise CellError(f"column 'period': '{value}' must look like 2023-2025, 2019- or 2019")
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) else None
    if "-" not in value:
        end = start
    for year in (start, end):
        if year is not None and not YEAR_MIN <= year <= YEAR_MAX:
            raise CellError(f"column 'period': year {year} is out of range")
    if end is not None and end < start:
        raise CellError(f"column 'period': end year {end} is before start year {start}")
    return value, start, end


def _bool(value: str, column: str) -> bool:
    folded = value.strip().lower()
    if folded in ("", "false", "non", "no", "0"):
        return False
    if folded in ("true", "oui", "yes", "1"):
        return True
    raise CellError(f"column '{column}': '{value}' is not true/false")


def _int(value: str, column: str, *, minimum: int = 0, maximum: int = 10**12) -> Optional[int]:
    value = value.strip().replace(" ", "")
    if not value:
        return None
    if not re.fullmatch(r"\d+", value):
        raise CellError(f"column '{column}': '{value}' is not a whole number")
    number = int(value)
    if not minimum <= number <= maximum:
        raise CellError(f"column '{column}': {number} is out of range")
    return number


def _choice(value: str, column: str, allowed: object) -> str:
    value = value.strip()
    if value not in allowed:  # type: ignore[operator]
        choices = ", ".join(sorted(allowed))  # type: ignore[call-overload]
        raise CellError(f"column '{column}': '{value}' is not one of {choices}")
    return value


# --------------------------------------------------------------------------- reading


def _rows(path: Path, table: str, errors: list[LoadError]) -> Iterator[tuple[int, dict[str, str]]]:
    display = _display(path)
    if not path.is_file():
        errors.append(LoadError(display, 0, "file is missing"))
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            errors.append(LoadError(display, 1, "file is empty (a header is required)"))
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            errors.append(LoadError(display, 1, f"unreadable CSV: {exc}"))
            return
        header = [h.strip() for h in header]
        expected = COLUMNS[table]
        if tuple(header) != expected:
            missing = [c for c in expected if c not in header]
            extra = [c for c in header if c not in expected]
            detail = []
            if missing:
                detail.append("missing " + ", ".join(missing))
            if extra:
                detail.append("unknown " + ", ".join(extra))
            if not detail:
                detail.append("columns are not in the expected order")
            errors.append(
                LoadError(
                    display,
                    1,
                    f"bad header ({'; '.join(detail)}); expected: {','.join(expected)}",
                )
            )
            return
        line = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                errors.append(LoadError(display, line, f"unreadable CSV: {exc}"))
                return
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(expected):
                errors.append(
                    LoadError(
                        display,
                        start,
                        f"expected {len(expected)} columns, found {len(cells)}",
                    )
                )
                continue
            yield start, dict(zip(expected, cells))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _NameIndex:
    """Detects names/aliases that normalise to the same key within one table."""

    def __init__(self, what: str):
        self.what = what
        self.keys: dict[str, tuple[str, int]] = {}

    def add(self, text: str, owner: str, line: int) -> Optional[str]:
        key = normalise_name(text)
        if not key:
            return f"{self.what} '{text}' is empty once normalised"
        previous = self.keys.get(key)
        if previous and previous[0] != owner:
            return f"{self.what} '{text}' is already used by '{previous[0]}' (line {previous[1]})"
        self.keys[key] = (owner, line)
        return None


R = TypeVar("R")
Lined = list[tuple[int, R]]  # records with the line of the CSV file they come from


class _Reader:
    """Reads the files of one data directory, collecting every error with its file and line."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.errors: list[LoadError] = []

    def display(self, table: str) -> str:
        return _display(self.data_dir / FILES[table])

    def error(self, table: str, line: int, message: str) -> None:
        self.errors.append(LoadError(self.display(table), line, message))

    def parse(self, table: str, build: Callable[[dict[str, str]], R]) -> Lined[R]:
        out: Lined[R] = []
        for line, raw in _rows(self.data_dir / FILES[table], table, self.errors):
            try:
                out.append((line, build(raw)))
            except CellError as exc:
                self.error(table, line, str(exc))
        return out

    def check_unique(self, table: str, rows: Lined[R], key: Callable[[R], str]) -> None:
        seen: dict[str, int] = {}
        for line, row in rows:
            slug = key(row)
            if slug in seen:
                self.error(table, line, f"slug '{slug}' is already used on line {seen[slug]}")
            seen.setdefault(slug, line)

    def check_names(self, table: str, what: str, named: Iterable[tuple[int, str, Iterable[str]]]) -> None:
        """Every (line, owner slug, names) of a table: no two owners share a normalised name."""
        index = _NameIndex(what)
        for line, owner, names in named:
            for text in names:
                problem = index.add(text, owner, line)
                if problem:
                    self.error(table, line, problem)

    def sorted_errors(self) -> list[LoadError]:
        order = list(FILES.values())
        return sorted(self.errors, key=lambda e: (
            order.index(Path(e.file).name) if Path(e.file).name in order else 99, e.line))


# --------------------------------------------------------------------------- records


def _theme(r: dict[str, str]) -> Theme:
    return Theme(
        slug=_slug(r["slug"]),
        label=_line(r["label"], "label"),
        synonyms=list(_list(r["synonyms"], "synonyms")),
    )


def _city(r: dict[str, str]) -> City:
    return City(
        slug=_slug(r["slug"]),
        name=_line(r["name"], "name"),
        aliases=list(_list(r["aliases"], "aliases")),
        country_code=_choice(r["country"].strip().upper(), "country", COUNTRIES),
        kind=_choice(r["kind"], "kind", CITY_KINDS),
        see_also=[_slug(s, "see_also") for s in _list(r["see_also"], "see_also")],
        note=_optional_text(r["note"], "note"),
        source_urls=list(_sources(r["source_urls"], required=False)),
    )


def _network_themes(cell: str, themes: dict[str, Theme]) -> list[Theme]:
    slugs = [_slug(t, "themes") for t in _list(cell, "themes")]
    for slug in slugs:
        if slug not in themes:
            raise CellError(f"column 'themes': unknown theme '{slug}'")
    if len(set(slugs)) != len(slugs):
        raise CellError("column 'themes' lists a theme twice")
    return [themes[slug] for slug in slugs]


def _network(r: dict[str, str], themes: dict[str, Theme]) -> Network:
    period, start, end = _period(r["period"])
    approved_on, precision = _approved(r["approved_on"])
    if start is None and approved_on is not None:
        start = approved_on.year
    linked = _network_themes(r["themes"], themes)
    return Network(
        slug=_slug(r["slug"]),
        name=_line(r["name"], "name"),
        aliases=list(_list(r["aliases"], "aliases")),
        type=_choice(r["type"], "type", NETWORK_TYPES),
        programme=_choice(r["programme"], "programme", PROGRAMMES),
        period=period,
        start_year=start,
        end_year=end,
        approved_on=approved_on,
        approved_precision=precision,
        description=_text(r["description"], "description", required=True, max_len=MAX_TEXT),
        official_url=_url(r["official_url"], "official_url"),
        partial=_bool(r["partial"], "partial"),
        source_urls=list(_sources(r["source_urls"])),
        themes=linked,
    )


def _membership(r: dict[str, str], networks: dict[str, Network], cities: dict[str, City]) -> Membership:
    network = _slug(r["network"], "network")
    city = _slug(r["city"], "city")
    if network not in networks:
        raise CellError(f"unknown network '{network}'")
    if city not in cities:
        raise CellError(f"unknown city '{city}'")
    role = _choice(r["role"], "role", MEMBERSHIP_ROLES)
    sources = list(_sources(r["source_urls"]))
    return Membership(network=networks[network], city=cities[city], role=role, source_urls=sources)


def _call(r: dict[str, str]) -> FundingCall:
    opens_on = _date(r["opens_on"], "opens_on")
    closes_on = _date(r["closes_on"], "closes_on")
    if opens_on and closes_on and closes_on < opens_on:
        raise CellError("closes_on is before opens_on")
    return FundingCall(
        slug=_slug(r["slug"]),
        name=_text(r["name"], "name", required=True, max_len=300),
        kind=_choice(r["kind"], "kind", CALL_KINDS),
        funder=_text(r["funder"], "funder", required=True, max_len=300),
        opens_on=opens_on,
        closes_on=closes_on,
        eligibility=_optional_text(r["eligibility"], "eligibility"),
        max_budget_eur=_int(r["max_budget_eur"], "max_budget_eur"),
        url=_url(r["url"], "url"),
        description=_optional_text(r["description"], "description"),
        source_urls=list(_sources(r["source_urls"])),
    )


def _contact_point(r: dict[str, str]) -> ContactPoint:
    return ContactPoint(
        slug=_slug(r["slug"]),
        country_code=_choice(r["country"].strip().upper(), "country", COUNTRIES),
        organisation=_text(r["organisation"], "organisation", required=True, max_len=300),
        person=_optional_text(r["person"], "person", MAX_NAME),
        role=_optional_text(r["role"], "role", MAX_NAME),
        as_of=_int(r["as_of"], "as_of", minimum=YEAR_MIN, maximum=YEAR_MAX),
        url=_url(r["url"], "url"),
        source_urls=list(_sources(r["source_urls"])),
    )


# --------------------------------------------------------------------------- tables


def _read_themes(reader: _Reader) -> Lined[Theme]:
    themes = reader.parse("themes", _theme)
    reader.check_unique("themes", themes, lambda t: t.slug)
    reader.check_names("themes", "theme label or synonym",
                       ((line, t.slug, (t.label, t.slug, *t.synonyms)) for line, t in themes))
    return themes


def _read_cities(reader: _Reader) -> Lined[City]:
    cities = reader.parse("cities", _city)
    reader.check_unique("cities", cities, lambda c: c.slug)
    reader.check_names("cities", "city name or alias",
                       ((line, c.slug, (c.name, *c.aliases)) for line, c in cities))
    slugs = {c.slug for _, c in cities}
    for line, c in cities:
        for other in c.see_also:
            if other not in slugs:
                reader.error("cities", line, f"see_also: unknown city '{other}'")
            elif other == c.slug:
                reader.error("cities", line, "see_also refers to the city itself")
    return cities


def _read_networks(reader: _Reader, themes: Lined[Theme]) -> Lined[Network]:
    by_slug = {t.slug: t for _, t in themes}
    networks = reader.parse("networks", lambda r: _network(r, by_slug))
    reader.check_unique("networks", networks, lambda n: n.slug)
    reader.check_names("networks", "network name or alias",
                       ((line, n.slug, (n.name, *n.aliases)) for line, n in networks))
    return networks


def _read_memberships(reader: _Reader, networks: Lined[Network], cities: Lined[City]) -> Lined[Membership]:
    """Memberships link their network and city; the lead partner becomes the network's lead."""
    by_network = {n.slug: n for _, n in networks}
    by_city = {c.slug: c for _, c in cities}
    memberships = reader.parse("memberships", lambda r: _membership(r, by_network, by_city))
    seen_pairs: dict[tuple[str, str], int] = {}
    leads: dict[str, int] = {}
    for line, m in memberships:
        pair = (m.network.slug, m.city.slug)
        if pair in seen_pairs:
            reader.error("memberships", line,
                         f"'{pair[1]}' is already listed in '{pair[0]}' (line {seen_pairs[pair]})")
        seen_pairs.setdefault(pair, line)
        if m.role != "lead":
            continue
        if pair[0] in leads:
            reader.error("memberships", line,
                         f"'{pair[0]}' already has a lead partner (line {leads[pair[0]]})")
        else:
            m.network.lead_city = m.city
        leads.setdefault(pair[0], line)
    return memberships


def _read_simple(reader: _Reader, table: str, build: Callable[[dict[str, str]], R],
                 slug: Callable[[R], str]) -> Lined[R]:
    rows = reader.parse(table, build)
    reader.check_unique(table, rows, slug)
    return rows


def _records(rows: Lined[R]) -> tuple[R, ...]:
    return tuple(record for _, record in rows)


def load_knowledge_base(data_dir: Path | str) -> KnowledgeBase:
    """Parse and validate every CSV in ``data_dir``; raise DataValidationError if any row is bad."""
    reader = _Reader(Path(data_dir))
    themes = _read_themes(reader)
    cities = _read_cities(reader)
    networks = _read_networks(reader, themes)
    memberships = _read_memberships(reader, networks, cities)
    calls = _read_simple(reader, "calls", _call, lambda c: c.slug)
    contact_points = _read_simple(reader, "contact_points", _contact_point, lambda c: c.slug)
    if reader.errors:
        raise DataValidationError(reader.sorted_errors())
    return KnowledgeBase(
        themes=_records(themes),
        cities=_records(cities),
        networks=_records(networks),
        memberships=_records(memberships),
        calls=_records(calls),
        contact_points=_records(contact_points),
    )
