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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterator, Optional

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


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class ThemeRow:
    slug: str
    label: str
    synonyms: tuple[str, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class CityRow:
    slug: str
    name: str
    aliases: tuple[str, ...]
    country_code: str
    kind: str
    see_also: tuple[str, ...]
    note: Optional[str]
    source_urls: tuple[str, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class NetworkRow:
    slug: str
    name: str
    aliases: tuple[str, ...]
    type: str
    programme: str
    period: Optional[str]
    start_year: Optional[int]
    end_year: Optional[int]
    approved_on: Optional[date]
    approved_precision: Optional[str]
    themes: tuple[str, ...]
    description: str
    official_url: Optional[str]
    partial: bool
    source_urls: tuple[str, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class MembershipRow:
    network: str
    city: str
    role: str
    source_urls: tuple[str, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class CallRow:
    slug: str
    name: str
    kind: str
    funder: str
    opens_on: Optional[date]
    closes_on: Optional[date]
    eligibility: Optional[str]
    max_budget_eur: Optional[int]
    url: Optional[str]
    description: Optional[str]
    source_urls: tuple[str, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ContactPointRow:
    slug: str
    country_code: str
    organisation: str
    person: Optional[str]
    role: Optional[str]
    as_of: Optional[int]
    url: Optional[str]
    source_urls: tuple[str, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class KnowledgeBase:
    themes: tuple[ThemeRow, ...]
    cities: tuple[CityRow, ...]
    networks: tuple[NetworkRow, ...]
    memberships: tuple[MembershipRow, ...]
    calls: tuple[CallRow, ...]
    contact_points: tuple[ContactPointRow, ...]

    def lead_of(self, network_slug: str) -> Optional[str]:
        for m in self.memberships:
            if m.network == network_slug and m.role == "lead":
                return m.city
        return None


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


def load_knowledge_base(data_dir: Path | str) -> KnowledgeBase:
    """Parse and validate every CSV in ``data_dir``; raise DataValidationError if any row is bad."""
    data_dir = Path(data_dir)
    errors: list[LoadError] = []

    def parse(table: str, build: Callable[[int, dict[str, str]], object]) -> list:
        out = []
        display = _display(data_dir / FILES[table])
        for line, raw in _rows(data_dir / FILES[table], table, errors):
            try:
                out.append(build(line, raw))
            except CellError as exc:
                errors.append(LoadError(display, line, str(exc)))
        return out

    # themes -----------------------------------------------------------------
    themes: list[ThemeRow] = parse(
        "themes",
        lambda line, r: ThemeRow(
            slug=_slug(r["slug"]),
            label=_line(r["label"], "label"),
            synonyms=_list(r["synonyms"], "synonyms"),
            line=line,
        ),
    )
    _check_unique(themes, "themes", data_dir, errors)
    theme_names = _NameIndex("theme label or synonym")
    for t in themes:
        for text in (t.label, t.slug, *t.synonyms):
            problem = theme_names.add(text, t.slug, t.line)
            if problem:
                errors.append(LoadError(_display(data_dir / FILES["themes"]), t.line, problem))
    theme_slugs = {t.slug for t in themes}

    # cities -----------------------------------------------------------------
    cities: list[CityRow] = parse(
        "cities",
        lambda line, r: CityRow(
            slug=_slug(r["slug"]),
            name=_line(r["name"], "name"),
            aliases=_list(r["aliases"], "aliases"),
            country_code=_choice(r["country"].strip().upper(), "country", COUNTRIES),
            kind=_choice(r["kind"], "kind", CITY_KINDS),
            see_also=tuple(_slug(s, "see_also") for s in _list(r["see_also"], "see_also")),
            note=_optional_text(r["note"], "note"),
            source_urls=_sources(r["source_urls"], required=False),
            line=line,
        ),
    )
    _check_unique(cities, "cities", data_dir, errors)
    city_slugs = {c.slug for c in cities}
    city_names = _NameIndex("city name or alias")
    cities_file = _display(data_dir / FILES["cities"])
    for c in cities:
        for text in (c.name, *c.aliases):
            problem = city_names.add(text, c.slug, c.line)
            if problem:
                errors.append(LoadError(cities_file, c.line, problem))
        for other in c.see_also:
            if other not in city_slugs:
                errors.append(LoadError(cities_file, c.line, f"see_also: unknown city '{other}'"))
            elif other == c.slug:
                errors.append(LoadError(cities_file, c.line, "see_also refers to the city itself"))

    # networks ---------------------------------------------------------------
    def build_network(line: int, r: dict[str, str]) -> NetworkRow:
        period, start, end = _period(r["period"])
        approved_on, precision = _approved(r["approved_on"])
        if start is None and approved_on is not None:
            start = approved_on.year
        network_themes = tuple(_slug(t, "themes") for t in _list(r["themes"], "themes"))
        for t in network_themes:
            if t not in theme_slugs:
                raise CellError(f"column 'themes': unknown theme '{t}'")
        if len(set(network_themes)) != len(network_themes):
            raise CellError("column 'themes' lists a theme twice")
        return NetworkRow(
            slug=_slug(r["slug"]),
            name=_line(r["name"], "name"),
            aliases=_list(r["aliases"], "aliases"),
            type=_choice(r["type"], "type", NETWORK_TYPES),
            programme=_choice(r["programme"], "programme", PROGRAMMES),
            period=period,
            start_year=start,
            end_year=end,
            approved_on=approved_on,
            approved_precision=precision,
            themes=network_themes,
            description=_text(r["description"], "description", required=True, max_len=MAX_TEXT),
            official_url=_url(r["official_url"], "official_url"),
            partial=_bool(r["partial"], "partial"),
            source_urls=_sources(r["source_urls"]),
            line=line,
        )

    networks: list[NetworkRow] = parse("networks", build_network)
    _check_unique(networks, "networks", data_dir, errors)
    network_slugs = {n.slug for n in networks}
    network_names = _NameIndex("network name or alias")
    networks_file = _display(data_dir / FILES["networks"])
    for n in networks:
        for text in (n.name, *n.aliases):
            problem = network_names.add(text, n.slug, n.line)
            if problem:
                errors.append(LoadError(networks_file, n.line, problem))

    # memberships ------------------------------------------------------------
    def build_membership(line: int, r: dict[str, str]) -> MembershipRow:
        network = _slug(r["network"], "network")
        city = _slug(r["city"], "city")
        if network not in network_slugs:
            raise CellError(f"unknown network '{network}'")
        if city not in city_slugs:
            raise CellError(f"unknown city '{city}'")
        return MembershipRow(
            network=network,
            city=city,
            role=_choice(r["role"], "role", MEMBERSHIP_ROLES),
            source_urls=_sources(r["source_urls"]),
            line=line,
        )

    memberships: list[MembershipRow] = parse("memberships", build_membership)
    memberships_file = _display(data_dir / FILES["memberships"])
    seen_pairs: dict[tuple[str, str], int] = {}
    leads: dict[str, int] = {}
    for m in memberships:
        pair = (m.network, m.city)
        if pair in seen_pairs:
            errors.append(
                LoadError(
                    memberships_file,
                    m.line,
                    f"'{m.city}' is already listed in '{m.network}' (line {seen_pairs[pair]})",
                )
            )
        seen_pairs.setdefault(pair, m.line)
        if m.role == "lead":
            if m.network in leads:
                errors.append(
                    LoadError(
                        memberships_file,
                        m.line,
                        f"'{m.network}' already has a lead partner (line {leads[m.network]})",
                    )
                )
            leads.setdefault(m.network, m.line)

    # calls ------------------------------------------------------------------
    def build_call(line: int, r: dict[str, str]) -> CallRow:
        opens_on = _date(r["opens_on"], "opens_on")
        closes_on = _date(r["closes_on"], "closes_on")
        if opens_on and closes_on and closes_on < opens_on:
            raise CellError("closes_on is before opens_on")
        return CallRow(
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
            source_urls=_sources(r["source_urls"]),
            line=line,
        )

    calls: list[CallRow] = parse("calls", build_call)
    _check_unique(calls, "calls", data_dir, errors)

    # contact points ---------------------------------------------------------
    contact_points: list[ContactPointRow] = parse(
        "contact_points",
        lambda line, r: ContactPointRow(
            slug=_slug(r["slug"]),
            country_code=_choice(r["country"].strip().upper(), "country", COUNTRIES),
            organisation=_text(r["organisation"], "organisation", required=True, max_len=300),
            person=_optional_text(r["person"], "person", MAX_NAME),
            role=_optional_text(r["role"], "role", MAX_NAME),
            as_of=_int(r["as_of"], "as_of", minimum=YEAR_MIN, maximum=YEAR_MAX),
            url=_url(r["url"], "url"),
            source_urls=_sources(r["source_urls"]),
            line=line,
        ),
    )
    _check_unique(contact_points, "contact_points", data_dir, errors)

    if errors:
        errors.sort(key=lambda e: (list(FILES.values()).index(Path(e.file).name)
                                   if Path(e.file).name in FILES.values() else 99, e.line))
        raise DataValidationError(errors)
    return KnowledgeBase(
        themes=tuple(themes),
        cities=tuple(cities),
        networks=tuple(networks),
        memberships=tuple(memberships),
        calls=tuple(calls),
        contact_points=tuple(contact_points),
    )


def _check_unique(rows: list, table: str, data_dir: Path, errors: list[LoadError]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if row.slug in seen:
            errors.append(
                LoadError(
                    _display(data_dir / FILES[table]),
                    row.line,
                    f"slug '{row.slug}' is already used on line {seen[row.slug]}",
                )
            )
        seen.setdefault(row.slug, row.line)
