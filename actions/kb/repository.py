"""Read access to the knowledge base for the actions.

SqlRepository wraps ONE AsyncSession (one unit of work = one action run); every call has a
deadline (DB_TIMEOUT_SECONDS) and only uses bound parameters. It returns the records of
models.py with what the actions read loaded eagerly; once the unit of work ends they are
detached, so an action never triggers a query by reading an attribute. The catalogue of names
is the one result that is not a record.

Actions receive a *repository factory*: a zero-argument callable returning an async context
manager that yields a SqlRepository (a fresh session each time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, AsyncContextManager, Awaitable, Callable, Optional, Sequence, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import selectinload

from actions.db import engine as engine_mod
from actions.db.deadline import run_with_deadline
from actions.kb.models import City, ContactPoint, FundingCall, Membership, Network, Theme, network_sort_key

T = TypeVar("T")


@dataclass(frozen=True)
class NameEntry:
    slug: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    """Everything entity normalisation needs: canonical names and aliases."""

    networks: tuple[NameEntry, ...]
    cities: tuple[NameEntry, ...]
    themes: tuple[NameEntry, ...]  # name = French label, aliases = synonyms
    country_codes: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class NetworkQuery:
    theme: Optional[str] = None  # theme slug
    city: Optional[str] = None  # city slug
    country: Optional[str] = None  # ISO code
    network_type: Optional[str] = None  # vocab.NETWORK_TYPES code
    programme: Optional[str] = None  # "URBACT IV"
    year: Optional[int] = None  # start year (approval / launch)
    lead_country: Optional[str] = None  # ISO code of the lead city's country

    def is_empty(self) -> bool:
        return not any(
            (self.theme, self.city, self.country, self.network_type, self.programme, self.year,
             self.lead_country)
        )


def call_sort_key(c: FundingCall) -> tuple[int, int, str]:
    """Latest deadline first; calls without a deadline last."""
    closes = c.closes_on.toordinal() if c.closes_on else 0
    opens = c.opens_on.toordinal() if c.opens_on else 0
    return (-closes, -opens, c.name.casefold())


# What a network answer reads: its lead and its themes (members only for one network).
_NETWORK_SUMMARY = (selectinload(Network.lead_city), selectinload(Network.themes))


def _network_filters(stmt: Select[Any], query: NetworkQuery) -> Select[Any]:
    if query.theme:
        stmt = stmt.where(Network.themes.any(Theme.slug == query.theme))
    if query.city:
        stmt = stmt.where(Network.memberships.any(Membership.city.has(City.slug == query.city)))
    if query.country:
        stmt = stmt.where(
            Network.memberships.any(Membership.city.has(City.country_code == query.country))
        )
    if query.network_type:
        stmt = stmt.where(Network.type == query.network_type)
    if query.programme:
        stmt = stmt.where(Network.programme == query.programme)
    if query.year:
        stmt = stmt.where(Network.start_year == query.year)
    if query.lead_country:
        stmt = stmt.where(Network.lead_city.has(City.country_code == query.lead_country))
    return stmt


class SqlRepository:
    """Repository over one AsyncSession. Not shareable between requests."""

    def __init__(self, session: AsyncSession, timeout: Optional[float] = None):
        self._session = session
        self._timeout = timeout if timeout is not None else engine_mod.db_timeout_seconds()

    async def _run(self, operation: str, coro: Awaitable[T]) -> T:
        return await run_with_deadline(self._session, self._timeout, operation, coro)

    async def _all(self, operation: str, stmt: Select[Any]) -> list[Any]:
        async def run() -> list[Any]:
            return list((await self._session.execute(stmt)).scalars().all())

        return await self._run(operation, run())

    async def _one(self, operation: str, stmt: Select[Any]) -> Any:
        async def run() -> Any:
            return (await self._session.execute(stmt)).scalar_one_or_none()

        return await self._run(operation, run())

    async def catalogue(self) -> Catalogue:
        async def query() -> Catalogue:
            async def names(*columns: Any) -> tuple[NameEntry, ...]:
                rows = (await self._session.execute(select(*columns))).all()
                return tuple(NameEntry(slug, name, tuple(aliases or ())) for slug, name, aliases in rows)

            codes = (await self._session.execute(select(City.country_code).distinct())).scalars()
            return Catalogue(
                networks=await names(Network.slug, Network.name, Network.aliases),
                cities=await names(City.slug, City.name, City.aliases),
                themes=await names(Theme.slug, Theme.label, Theme.synonyms),
                country_codes=frozenset(codes),
            )

        return await self._run("catalogue", query())

    async def search_networks(self, query: NetworkQuery) -> list[Network]:
        """Networks matching every criterion, most recent first, with their lead and themes."""
        stmt = _network_filters(select(Network).options(*_NETWORK_SUMMARY), query)
        return sorted(await self._all("search_networks", stmt), key=network_sort_key)

    async def cities_in_country(self, network_slugs: Sequence[str], country: str) -> dict[str, list[str]]:
        """Names of the members of each network that are in ``country`` (ISO code), sorted."""

        async def run() -> dict[str, list[str]]:
            stmt = (
                select(Network.slug, City.name)
                .join(Membership, Membership.network_id == Network.id)
                .join(City, City.id == Membership.city_id)
                .where(Network.slug.in_(list(network_slugs)), City.country_code == country)
                .order_by(City.name)
            )
            found: dict[str, list[str]] = {}
            for slug, name in (await self._session.execute(stmt)).all():
                found.setdefault(slug, []).append(name)
            return found

        return await self._run("cities_in_country", run())

    async def countries_by_towns(self, limit: int) -> list[tuple[str, int]]:
        """(ISO code, number of towns taking part in at least one network), most towns first."""
        stmt = (
            select(City.country_code, func.count(func.distinct(City.id)))
            .join(Membership, Membership.city_id == City.id)
            .group_by(City.country_code)
            .order_by(func.count(func.distinct(City.id)).desc(), City.country_code)
            .limit(limit)
        )

        async def run() -> list[tuple[str, int]]:
            return [(str(code), int(count)) for code, count in (await self._session.execute(stmt)).all()]

        return await self._run("countries_by_towns", run())

    async def get_network(self, slug: str) -> Optional[Network]:
        """One network with its lead, themes and members (``members``: lead first)."""
        stmt = (
            select(Network)
            .where(Network.slug == slug)
            .options(*_NETWORK_SUMMARY, selectinload(Network.memberships).selectinload(Membership.city))
        )
        network: Optional[Network] = await self._one("get_network", stmt)
        return network

    async def get_city(self, slug: str) -> Optional[City]:
        """One city with its networks (``participations``: most recent first), their leads and themes."""
        networks = selectinload(City.memberships).selectinload(Membership.network)
        stmt = (
            select(City)
            .where(City.slug == slug)
            .options(networks.selectinload(Network.lead_city), networks.selectinload(Network.themes))
        )
        city: Optional[City] = await self._one("get_city", stmt)
        return city

    async def cities(self, slugs: Sequence[str]) -> list[City]:
        """The cities of ``slugs`` that exist, in the order of ``slugs``, with their networks."""
        if not slugs:
            return []
        stmt = (
            select(City)
            .where(City.slug.in_(list(slugs)))
            .options(selectinload(City.memberships).selectinload(Membership.network))
        )
        found = await self._all("cities", stmt)
        by_slug = {c.slug: c for c in found}
        return [by_slug[s] for s in slugs if s in by_slug]

    async def _calls(self, operation: str, kind: Optional[str], *conditions: Any) -> list[FundingCall]:
        stmt = select(FundingCall).where(*conditions)
        if kind:
            stmt = stmt.where(FundingCall.kind == kind)
        return sorted(await self._all(operation, stmt), key=call_sort_key)

    async def list_calls(self, kind: Optional[str] = None) -> list[FundingCall]:
        return await self._calls("list_calls", kind)

    async def open_calls(self, today: date, kind: Optional[str] = None) -> list[FundingCall]:
        return await self._calls(
            "open_calls", kind,
            FundingCall.closes_on.is_not(None),
            FundingCall.closes_on >= today,
            (FundingCall.opens_on.is_(None)) | (FundingCall.opens_on <= today),
        )

    async def upcoming_calls(self, today: date, kind: Optional[str] = None) -> list[FundingCall]:
        calls = await self._calls("upcoming_calls", kind, FundingCall.opens_on > today)
        return sorted(calls, key=lambda c: (c.opens_on, c.name.casefold()))

    async def last_closed_calls(
        self, today: date, kind: Optional[str] = None, limit: int = 1
    ) -> list[FundingCall]:
        calls = await self._calls(
            "last_closed_calls", kind, FundingCall.closes_on.is_not(None), FundingCall.closes_on < today
        )
        return calls[: max(0, limit)]

    async def contact_points(self, country_code: str) -> list[ContactPoint]:
        stmt = select(ContactPoint).where(ContactPoint.country_code == country_code)
        found: list[ContactPoint] = await self._all("contact_points", stmt)
        return sorted(found, key=lambda c: (-(c.as_of or 0), c.slug))


RepositoryFactory = Callable[[], AsyncContextManager[SqlRepository]]


class SqlRepositoryFactory(engine_mod.UnitOfWorkFactory[SqlRepository]):
    """Units of work of SqlRepository (one session each)."""

    def __init__(self, engine: AsyncEngine, timeout: Optional[float] = None):
        super().__init__(engine, SqlRepository, timeout)


_default_factory: Optional[SqlRepositoryFactory] = None


def default_repository_factory() -> AsyncContextManager[SqlRepository]:
    """Unit of work on the knowledge base (DATABASE_URL; the engine is shared by the action server)."""
    global _default_factory
    engine = engine_mod.shared_engine()
    if _default_factory is None or _default_factory.engine is not engine:
        _default_factory = SqlRepositoryFactory(engine)
    return _default_factory()
