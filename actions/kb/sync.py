"""Idempotent import of a validated KnowledgeBase into the database.

``import_knowledge_base`` migrates the database to head, then synchronises it in one
transaction.

``sync_knowledge_base`` makes the database equal to the CSV files (insert, update, delete)
and reports what changed per table. It does not commit: the caller wraps it in one
transaction (``async with session.begin()``) so a failure leaves the database untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from actions.db.engine import create_engine, create_sessionmaker, database_url
from actions.db.migrate import upgrade_to_head

from actions.kb.loader import KnowledgeBase
from actions.kb.models import City, ContactPoint, FundingCall, Membership, Network, Theme

TABLES = ("themes", "cities", "networks", "memberships", "calls", "contact_points")


@dataclass
class TableChanges:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.added) + len(self.updated) + len(self.removed)


@dataclass
class ChangeReport:
    tables: dict[str, TableChanges] = field(
        default_factory=lambda: {name: TableChanges() for name in TABLES}
    )

    @property
    def total(self) -> int:
        return sum(t.total for t in self.tables.values())

    def lines(self, verbose: bool = False) -> list[str]:
        if self.total == 0:
            return ["0 changes"]
        out = []
        for name, t in self.tables.items():
            if t.total == 0:
                continue
            out.append(
                f"{name}: {len(t.added)} added, {len(t.updated)} updated, {len(t.removed)} removed"
            )
            if verbose:
                for label, keys in (("+", t.added), ("~", t.updated), ("-", t.removed)):
                    out += [f"  {label} {key}" for key in keys]
        out.append(f"{self.total} changes")
        return out


def _apply(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


async def _sync_by_slug(
    session: AsyncSession,
    report: "ChangeReport",
    table: str,
    model: Any,
    wanted: dict[str, dict[str, Any]],
) -> None:
    """Make the rows of ``model`` equal to ``wanted`` (slug -> column values), reporting changes."""
    existing = {obj.slug: obj for obj in (await session.execute(select(model))).scalars()}
    for slug, values in wanted.items():
        obj = existing.get(slug)
        if obj is None:
            session.add(model(slug=slug, **values))
            report.tables[table].added.append(slug)
        elif _apply(obj, values):
            report.tables[table].updated.append(slug)
    for slug, obj in existing.items():
        if slug not in wanted:
            await session.delete(obj)
            report.tables[table].removed.append(slug)


async def sync_knowledge_base(session: AsyncSession, kb: KnowledgeBase) -> ChangeReport:
    report = ChangeReport()

    # -- themes (upsert; deletions at the end)
    themes = {t.slug: t for t in (await session.execute(select(Theme))).scalars()}
    for row in kb.themes:
        values = {"label": row.label, "synonyms": list(row.synonyms)}
        obj = themes.get(row.slug)
        if obj is None:
            obj = Theme(slug=row.slug, **values)
            session.add(obj)
            themes[row.slug] = obj
            report.tables["themes"].added.append(row.slug)
        elif _apply(obj, values):
            report.tables["themes"].updated.append(row.slug)

    # -- cities
    cities = {c.slug: c for c in (await session.execute(select(City))).scalars()}
    for row in kb.cities:
        values = {
            "name": row.name,
            "aliases": list(row.aliases),
            "country_code": row.country_code,
            "kind": row.kind,
            "see_also": list(row.see_also),
            "note": row.note,
            "source_urls": list(row.source_urls),
        }
        obj = cities.get(row.slug)
        if obj is None:
            obj = City(slug=row.slug, **values)
            session.add(obj)
            cities[row.slug] = obj
            report.tables["cities"].added.append(row.slug)
        elif _apply(obj, values):
            report.tables["cities"].updated.append(row.slug)
    await session.flush()

    # -- networks (lead partner derived from memberships; themes association)
    networks = {
        n.slug: n
        for n in (
            await session.execute(select(Network).options(selectinload(Network.themes)))
        ).scalars()
    }
    for row in kb.networks:
        lead = kb.lead_of(row.slug)
        values = {
            "name": row.name,
            "aliases": list(row.aliases),
            "type": row.type,
            "programme": row.programme,
            "period": row.period,
            "start_year": row.start_year,
            "end_year": row.end_year,
            "approved_on": row.approved_on,
            "approved_precision": row.approved_precision,
            "description": row.description,
            "official_url": row.official_url,
            "partial": row.partial,
            "source_urls": list(row.source_urls),
            "lead_city_id": cities[lead].id if lead else None,
        }
        wanted_themes = [themes[t] for t in row.themes]
        obj = networks.get(row.slug)
        if obj is None:
            obj = Network(slug=row.slug, **values)
            obj.themes = wanted_themes
            session.add(obj)
            networks[row.slug] = obj
            report.tables["networks"].added.append(row.slug)
        else:
            changed = _apply(obj, values)
            if {t.slug for t in obj.themes} != set(row.themes):
                obj.themes = wanted_themes
                changed = True
            if changed:
                report.tables["networks"].updated.append(row.slug)
    await session.flush()

    # -- memberships
    existing = {
        (m.network.slug, m.city.slug): m
        for m in (
            await session.execute(
                select(Membership).options(
                    selectinload(Membership.network), selectinload(Membership.city)
                )
            )
        ).scalars()
    }
    wanted = {(m.network, m.city): m for m in kb.memberships}
    for key, obj in existing.items():
        if key not in wanted:
            await session.delete(obj)
            report.tables["memberships"].removed.append(f"{key[0]}/{key[1]}")
    await session.flush()
    for key, row in wanted.items():
        values = {"role": row.role, "source_urls": list(row.source_urls)}
        obj = existing.get(key)
        if obj is None:
            session.add(
                Membership(network_id=networks[row.network].id, city_id=cities[row.city].id, **values)
            )
            report.tables["memberships"].added.append(f"{row.network}/{row.city}")
        elif _apply(obj, values):
            report.tables["memberships"].updated.append(f"{row.network}/{row.city}")
    await session.flush()

    # -- deletions of networks, cities, themes no longer in the CSV files
    kb_networks = {n.slug for n in kb.networks}
    for slug, obj in networks.items():
        if slug not in kb_networks:
            await session.delete(obj)
            report.tables["networks"].removed.append(slug)
    await session.flush()
    kb_cities = {c.slug for c in kb.cities}
    for slug, obj in cities.items():
        if slug not in kb_cities:
            await session.delete(obj)
            report.tables["cities"].removed.append(slug)
    kb_themes = {t.slug for t in kb.themes}
    for slug, obj in themes.items():
        if slug not in kb_themes:
            await session.delete(obj)
            report.tables["themes"].removed.append(slug)
    await session.flush()

    # -- funding calls and contact points: no references, so upsert and delete in one pass
    await _sync_by_slug(session, report, "calls", FundingCall, {
        row.slug: {
            "name": row.name,
            "kind": row.kind,
            "funder": row.funder,
            "opens_on": row.opens_on,
            "closes_on": row.closes_on,
            "eligibility": row.eligibility,
            "max_budget_eur": row.max_budget_eur,
            "url": row.url,
            "description": row.description,
            "source_urls": list(row.source_urls),
        }
        for row in kb.calls
    })
    await _sync_by_slug(session, report, "contact_points", ContactPoint, {
        row.slug: {
            "country_code": row.country_code,
            "organisation": row.organisation,
            "person": row.person,
            "role": row.role,
            "as_of": row.as_of,
            "url": row.url,
            "source_urls": list(row.source_urls),
        }
        for row in kb.contact_points
    })
    await session.flush()
    return report


async def import_knowledge_base(kb: KnowledgeBase, url: Optional[str] = None) -> ChangeReport:
    """Migrate the database to head and synchronise it with ``kb`` in one transaction."""
    resolved = database_url(url)
    engine = create_engine(resolved)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_head, resolved)
        async with create_sessionmaker(engine)() as session:  # one session, one transaction
            async with session.begin():
                return await sync_knowledge_base(session, kb)
    finally:
        await engine.dispose()
