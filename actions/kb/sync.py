"""Idempotent import of a validated KnowledgeBase into the database.

``import_knowledge_base`` migrates the database to head, then synchronises it in one
transaction.

``sync_knowledge_base`` makes the database equal to the CSV files (insert, update, delete)
and reports what changed per table. It does not commit: the caller wraps it in one
transaction (``async with session.begin()``) so a failure leaves the database untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from sqlalchemy import inspect as sa_inspect
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


# Columns the importer never copies: ids, and foreign keys (set from the linked records).
_NOT_COPIED = frozenset({"id", "slug", "lead_city_id", "network_id", "city_id"})


def _values(record: Any) -> dict[str, Any]:
    """The column values of a loaded record, keyed by attribute (lists copied)."""
    out = {}
    for column in sa_inspect(type(record)).column_attrs:
        if column.key not in _NOT_COPIED:
            value = getattr(record, column.key)
            out[column.key] = list(value) if isinstance(value, list) else value
    return out


def _apply(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


class _Sync:
    """One synchronisation: the session, the report, and the database rows by natural key."""

    def __init__(self, session: AsyncSession, kb: KnowledgeBase):
        self.session = session
        self.kb = kb
        self.report = ChangeReport()

    async def existing(self, model: Any, *options: Any) -> dict[str, Any]:
        rows = (await self.session.execute(select(model).options(*options))).scalars()
        return {row.slug: row for row in rows}

    def upsert(self, table: str, model: Any, existing: dict[str, Any], record: Any) -> Any:
        """Insert ``record``'s values, or update the database row with the same slug."""
        obj = existing.get(record.slug)
        if obj is None:
            obj = model(slug=record.slug, **_values(record))
            self.session.add(obj)
            existing[record.slug] = obj
            self.report.tables[table].added.append(record.slug)
        elif _apply(obj, _values(record)):
            self.report.tables[table].updated.append(record.slug)
        return obj

    async def remove_missing(self, table: str, existing: dict[str, Any], kept: Iterable[Any]) -> None:
        slugs = {record.slug for record in kept}
        for slug, obj in existing.items():
            if slug not in slugs:
                await self.session.delete(obj)
                self.report.tables[table].removed.append(slug)

    async def networks(self, themes: dict[str, Theme], cities: dict[str, City]) -> dict[str, Network]:
        """Networks with their lead city (from the memberships) and their themes."""
        networks = await self.existing(Network, selectinload(Network.themes), selectinload(Network.lead_city))
        for record in self.kb.networks:
            lead = cities[record.lead_city.slug] if record.lead_city else None
            linked = [themes[t.slug] for t in record.themes]
            obj = networks.get(record.slug)
            if obj is None:
                obj = self.upsert("networks", Network, networks, record)
                obj.lead_city, obj.themes = lead, linked
                continue
            changed = _apply(obj, _values(record))
            if obj.lead_city is not lead:
                obj.lead_city = lead
                changed = True
            if {t.slug for t in obj.themes} != {t.slug for t in record.themes}:
                obj.themes = linked
                changed = True
            if changed:
                self.report.tables["networks"].updated.append(record.slug)
        await self.session.flush()
        return networks

    async def memberships(self, networks: dict[str, Network], cities: dict[str, City]) -> None:
        rows = await self.session.execute(
            select(Membership).options(selectinload(Membership.network), selectinload(Membership.city))
        )
        existing = {(m.network.slug, m.city.slug): m for m in rows.scalars()}
        wanted = {(m.network.slug, m.city.slug): m for m in self.kb.memberships}
        changes = self.report.tables["memberships"]
        for key, obj in existing.items():
            if key not in wanted:
                await self.session.delete(obj)
                changes.removed.append(f"{key[0]}/{key[1]}")
        await self.session.flush()
        for key, record in wanted.items():
            values = _values(record)
            current = existing.get(key)
            if current is None:
                self.session.add(Membership(network=networks[key[0]], city=cities[key[1]], **values))
                changes.added.append(f"{key[0]}/{key[1]}")
            elif _apply(current, values):
                changes.updated.append(f"{key[0]}/{key[1]}")
        await self.session.flush()

    async def by_slug(self, table: str, model: Any, records: Iterable[Any]) -> None:
        """Tables without references: upsert and delete in one pass."""
        existing = await self.existing(model)
        records = list(records)
        for record in records:
            self.upsert(table, model, existing, record)
        await self.remove_missing(table, existing, records)


async def sync_knowledge_base(session: AsyncSession, kb: KnowledgeBase) -> ChangeReport:
    sync = _Sync(session, kb)
    themes = await sync.existing(Theme)
    for theme in kb.themes:
        sync.upsert("themes", Theme, themes, theme)
    cities = await sync.existing(City)
    for city in kb.cities:
        sync.upsert("cities", City, cities, city)
    await session.flush()
    networks = await sync.networks(themes, cities)
    await sync.memberships(networks, cities)
    # networks, cities and themes no longer in the CSV files (memberships went first)
    await sync.remove_missing("networks", networks, kb.networks)
    await session.flush()
    await sync.remove_missing("cities", cities, kb.cities)
    await sync.remove_missing("themes", themes, kb.themes)
    await session.flush()
    await sync.by_slug("calls", FundingCall, kb.calls)
    await sync.by_slug("contact_points", ContactPoint, kb.contact_points)
    await session.flush()
    return sync.report


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
