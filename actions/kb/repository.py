"""Read access to the knowledge base: DTOs, the Repository protocol and two implementations.

- SqlRepository wraps ONE AsyncSession (one unit of work = one action run); every call
  has a deadline (DB_TIMEOUT_SECONDS, default 2 s) and only uses bound parameters.
- InMemoryRepository answers the same questions from a validated KnowledgeBase; it is used
  by action tests and has the same ordering and filtering semantics as the SQL one.

Actions receive a *repository factory*: a zero-argument callable returning an async
context manager that yields a Repository (a fresh session for SQL).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import (
    AsyncContextManager,
    AsyncIterator,
    Awaitable,
    Callable,
    Optional,
    Protocol,
    Sequence,
    TypeVar,
    runtime_checkable,
)

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import selectinload

from actions.db import engine as engine_mod
from actions.db.deadline import run_with_deadline
from actions.kb.loader import KnowledgeBase
from actions.kb.models import City, ContactPoint, FundingCall, Membership, Network, Theme

logger = logging.getLogger(__name__)
T = TypeVar("T")

# ----------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class CityRef:
    slug: str
    name: str
    country_code: str
    kind: str


@dataclass(frozen=True)
class NetworkSummary:
    slug: str
    name: str
    type: str
    programme: str
    period: Optional[str]
    start_year: Optional[int]
    approved_on: Optional[date]
    approved_precision: Optional[str]
    lead: Optional[CityRef]
    theme_labels: tuple[str, ...]
    official_url: Optional[str]
    partial: bool


@dataclass(frozen=True)
class Member:
    city: CityRef
    role: str  # lead | partner


@dataclass(frozen=True)
class NetworkDetail(NetworkSummary):
    aliases: tuple[str, ...] = ()
    description: str = ""
    members: tuple[Member, ...] = ()
    theme_slugs: tuple[str, ...] = ()
    source_urls: tuple[str, ...] = ()

    @property
    def partners(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.role != "lead")


@dataclass(frozen=True)
class CityMembership:
    network: NetworkSummary
    role: str


@dataclass(frozen=True)
class CityDetail:
    slug: str
    name: str
    aliases: tuple[str, ...]
    country_code: str
    kind: str
    note: Optional[str]
    see_also: tuple[CityRef, ...]
    memberships: tuple[CityMembership, ...]
    source_urls: tuple[str, ...]


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

    def is_empty(self) -> bool:
        return not any(
            (self.theme, self.city, self.country, self.network_type, self.programme, self.year)
        )


@dataclass(frozen=True)
class CallInfo:
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

    @property
    def link(self) -> Optional[str]:
        """The official page of the call, if known (sources are kept for staff, not shown)."""
        return self.url


@dataclass(frozen=True)
class ContactInfo:
    slug: str
    country_code: str
    organisation: str
    person: Optional[str]
    role: Optional[str]
    as_of: Optional[int]
    url: Optional[str]
    source_urls: tuple[str, ...]


# ----------------------------------------------------------------------------- protocol


@runtime_checkable
class Repository(Protocol):
    async def catalogue(self) -> Catalogue: ...

    async def search_networks(self, query: NetworkQuery) -> list[NetworkSummary]: ...

    async def get_network(self, slug: str) -> Optional[NetworkDetail]: ...

    async def cities_in_country(self, network_slugs: Sequence[str], country: str) -> dict[str, list[str]]:
        """Names of the members of each network that are in ``country`` (ISO code), sorted."""
        ...

    async def get_city(self, slug: str) -> Optional[CityDetail]: ...

    async def list_calls(self, kind: Optional[str] = None) -> list[CallInfo]: ...

    async def open_calls(self, today: date, kind: Optional[str] = None) -> list[CallInfo]: ...

    async def upcoming_calls(self, today: date, kind: Optional[str] = None) -> list[CallInfo]: ...

    async def last_closed_calls(
        self, today: date, kind: Optional[str] = None, limit: int = 1
    ) -> list[CallInfo]: ...

    async def contact_points(self, country_code: str) -> list[ContactInfo]: ...


RepositoryFactory = Callable[[], AsyncContextManager[Repository]]

# ----------------------------------------------------------------------------- ordering
# Shared by both implementations so that they return identical results.


def network_sort_key(n: NetworkSummary) -> tuple:
    """Most recent first, then alphabetical."""
    return (-(n.start_year or 0), n.name.casefold())


def member_sort_key(m: Member) -> tuple:
    """Lead first, then French partners, then by name."""
    return (m.role != "lead", m.city.country_code != "FR", m.city.name.casefold())


def call_sort_key(c: CallInfo) -> tuple:
    """Latest deadline first; calls without a deadline last."""
    closes = c.closes_on.toordinal() if c.closes_on else 0
    opens = c.opens_on.toordinal() if c.opens_on else 0
    return (-closes, -opens, c.name.casefold())


def is_open(call: CallInfo, today: date) -> bool:
    return (
        call.closes_on is not None
        and call.closes_on >= today
        and (call.opens_on is None or call.opens_on <= today)
    )


# ----------------------------------------------------------------------------- SQL


class SqlRepository:
    """Repository over one AsyncSession. Not shareable between requests."""

    def __init__(self, session: AsyncSession, timeout: Optional[float] = None):
        self._session = session
        self._timeout = timeout if timeout is not None else engine_mod.db_timeout_seconds()

    async def _run(self, operation: str, coro: Awaitable[T]) -> T:
        return await run_with_deadline(self._session, self._timeout, operation, coro)

    # -- mapping helpers
    @staticmethod
    def _city_ref(city: City) -> CityRef:
        return CityRef(city.slug, city.name, city.country_code, city.kind)

    @classmethod
    def _summary(cls, n: Network) -> NetworkSummary:
        return NetworkSummary(
            slug=n.slug,
            name=n.name,
            type=n.type,
            programme=n.programme,
            period=n.period,
            start_year=n.start_year,
            approved_on=n.approved_on,
            approved_precision=n.approved_precision,
            lead=cls._city_ref(n.lead_city) if n.lead_city else None,
            theme_labels=tuple(sorted((t.label for t in n.themes), key=str.casefold)),
            official_url=n.official_url,
            partial=bool(n.partial),
        )

    @staticmethod
    def _call(c: FundingCall) -> CallInfo:
        return CallInfo(
            slug=c.slug,
            name=c.name,
            kind=c.kind,
            funder=c.funder,
            opens_on=c.opens_on,
            closes_on=c.closes_on,
            eligibility=c.eligibility,
            max_budget_eur=c.max_budget_eur,
            url=c.url,
            description=c.description,
            source_urls=tuple(c.source_urls or ()),
        )

    # -- queries
    async def catalogue(self) -> Catalogue:
        async def query() -> Catalogue:
            nets = (await self._session.execute(select(Network.slug, Network.name, Network.aliases))).all()
            cities = (
                await self._session.execute(select(City.slug, City.name, City.aliases))
            ).all()
            themes = (
                await self._session.execute(select(Theme.slug, Theme.label, Theme.synonyms))
            ).all()
            codes = (await self._session.execute(select(City.country_code).distinct())).scalars()
            return Catalogue(
                networks=tuple(NameEntry(s, n, tuple(a or ())) for s, n, a in nets),
                cities=tuple(NameEntry(s, n, tuple(a or ())) for s, n, a in cities),
                themes=tuple(NameEntry(s, n, tuple(a or ())) for s, n, a in themes),
                country_codes=frozenset(codes),
            )

        return await self._run("catalogue", query())

    async def search_networks(self, query: NetworkQuery) -> list[NetworkSummary]:
        async def run() -> list[NetworkSummary]:
            stmt = select(Network).options(
                selectinload(Network.lead_city), selectinload(Network.themes)
            )
            if query.theme:
                stmt = stmt.where(Network.themes.any(Theme.slug == query.theme))
            if query.city:
                stmt = stmt.where(
                    Network.memberships.any(Membership.city.has(City.slug == query.city))
                )
            if query.country:
                stmt = stmt.where(
                    Network.memberships.any(
                        Membership.city.has(City.country_code == query.country)
                    )
                )
            if query.network_type:
                stmt = stmt.where(Network.type == query.network_type)
            if query.programme:
                stmt = stmt.where(Network.programme == query.programme)
            if query.year:
                stmt = stmt.where(Network.start_year == query.year)
            rows = (await self._session.execute(stmt)).scalars().all()
            return sorted((self._summary(n) for n in rows), key=network_sort_key)

        return await self._run("search_networks", run())

    async def cities_in_country(self, network_slugs: Sequence[str], country: str) -> dict[str, list[str]]:
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

    async def get_network(self, slug: str) -> Optional[NetworkDetail]:
        async def run() -> Optional[NetworkDetail]:
            stmt = (
                select(Network)
                .where(Network.slug == slug)
                .options(
                    selectinload(Network.lead_city),
                    selectinload(Network.themes),
                    selectinload(Network.memberships).selectinload(Membership.city),
                )
            )
            n = (await self._session.execute(stmt)).scalar_one_or_none()
            if n is None:
                return None
            summary = self._summary(n)
            members = sorted(
                (Member(self._city_ref(m.city), m.role) for m in n.memberships),
                key=member_sort_key,
            )
            return NetworkDetail(
                **summary.__dict__,
                aliases=tuple(n.aliases or ()),
                description=n.description,
                members=tuple(members),
                theme_slugs=tuple(sorted(t.slug for t in n.themes)),
                source_urls=tuple(n.source_urls or ()),
            )

        return await self._run("get_network", run())

    async def get_city(self, slug: str) -> Optional[CityDetail]:
        async def run() -> Optional[CityDetail]:
            stmt = (
                select(City)
                .where(City.slug == slug)
                .options(
                    selectinload(City.memberships)
                    .selectinload(Membership.network)
                    .selectinload(Network.lead_city),
                    selectinload(City.memberships)
                    .selectinload(Membership.network)
                    .selectinload(Network.themes),
                )
            )
            c = (await self._session.execute(stmt)).scalar_one_or_none()
            if c is None:
                return None
            see_also: list[CityRef] = []
            if c.see_also:
                others = (
                    (await self._session.execute(select(City).where(City.slug.in_(list(c.see_also)))))
                    .scalars()
                    .all()
                )
                by_slug = {o.slug: o for o in others}
                see_also = [self._city_ref(by_slug[s]) for s in c.see_also if s in by_slug]
            memberships = sorted(
                (CityMembership(self._summary(m.network), m.role) for m in c.memberships),
                key=lambda cm: network_sort_key(cm.network),
            )
            return CityDetail(
                slug=c.slug,
                name=c.name,
                aliases=tuple(c.aliases or ()),
                country_code=c.country_code,
                kind=c.kind,
                note=c.note,
                see_also=tuple(see_also),
                memberships=tuple(memberships),
                source_urls=tuple(c.source_urls or ()),
            )

        return await self._run("get_city", run())

    async def _calls(self, operation: str, stmt) -> list[CallInfo]:  # type: ignore[no-untyped-def]
        async def run() -> list[CallInfo]:
            rows = (await self._session.execute(stmt)).scalars().all()
            return sorted((self._call(c) for c in rows), key=call_sort_key)

        return await self._run(operation, run())

    async def list_calls(self, kind: Optional[str] = None) -> list[CallInfo]:
        stmt = select(FundingCall)
        if kind:
            stmt = stmt.where(FundingCall.kind == kind)
        return await self._calls("list_calls", stmt)

    async def open_calls(self, today: date, kind: Optional[str] = None) -> list[CallInfo]:
        stmt = select(FundingCall).where(
            FundingCall.closes_on.is_not(None),
            FundingCall.closes_on >= today,
            (FundingCall.opens_on.is_(None)) | (FundingCall.opens_on <= today),
        )
        if kind:
            stmt = stmt.where(FundingCall.kind == kind)
        return await self._calls("open_calls", stmt)

    async def upcoming_calls(self, today: date, kind: Optional[str] = None) -> list[CallInfo]:
        stmt = select(FundingCall).where(FundingCall.opens_on > today)
        if kind:
            stmt = stmt.where(FundingCall.kind == kind)
        calls = await self._calls("upcoming_calls", stmt)
        return sorted(calls, key=lambda c: (c.opens_on, c.name.casefold()))

    async def last_closed_calls(
        self, today: date, kind: Optional[str] = None, limit: int = 1
    ) -> list[CallInfo]:
        stmt = select(FundingCall).where(
            FundingCall.closes_on.is_not(None), FundingCall.closes_on < today
        )
        if kind:
            stmt = stmt.where(FundingCall.kind == kind)
        return (await self._calls("last_closed_calls", stmt))[: max(0, limit)]

    async def contact_points(self, country_code: str) -> list[ContactInfo]:
        async def run() -> list[ContactInfo]:
            stmt = select(ContactPoint).where(ContactPoint.country_code == country_code)
            rows = (await self._session.execute(stmt)).scalars().all()
            infos = [
                ContactInfo(
                    slug=r.slug,
                    country_code=r.country_code,
                    organisation=r.organisation,
                    person=r.person,
                    role=r.role,
                    as_of=r.as_of,
                    url=r.url,
                    source_urls=tuple(r.source_urls or ()),
                )
                for r in rows
            ]
            return sorted(infos, key=lambda i: (-(i.as_of or 0), i.slug))

        return await self._run("contact_points", run())


class SqlRepositoryFactory(engine_mod.UnitOfWorkFactory["Repository"]):
    """Units of work of SqlRepository (one session each)."""

    def __init__(self, engine: AsyncEngine, timeout: Optional[float] = None):
        super().__init__(engine, SqlRepository, timeout)


_default_factory: Optional[SqlRepositoryFactory] = None


def default_repository_factory() -> AsyncContextManager[Repository]:
    """Unit of work on the knowledge base (DATABASE_URL; the engine is shared by the action server)."""
    global _default_factory
    engine = engine_mod.shared_engine()
    if _default_factory is None or _default_factory.engine is not engine:
        _default_factory = SqlRepositoryFactory(engine)
    return _default_factory()
