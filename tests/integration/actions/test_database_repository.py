"""SqlRepository on SQLite and PostgreSQL: queries, parity between the two backends, deadlines,
outages, and the actions running on a real database."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any, AsyncIterator

import pytest
import pytest_asyncio
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text

from actions.db.engine import create_engine
from actions.db.errors import RepositoryTimeout, RepositoryUnavailable
from actions.kb.action import DB_UNAVAILABLE_TEXT
from actions.kb.funding import ActionOpenCalls
from actions.kb.models import City, Network, Record
from actions.kb.networks import ActionCityNetworks, ActionSearchNetworks
from actions.kb.repository import NetworkQuery, SqlRepository, SqlRepositoryFactory
from actions.ops import import_data
from tests.conftest import build_tracker

pytestmark = pytest.mark.asyncio

QUERIES = [
    NetworkQuery(theme="jeunesse"),
    NetworkQuery(programme="URBACT IV", country="FR"),
    NetworkQuery(city="mouans-sartoux"),
    NetworkQuery(network_type="transfer"),
    NetworkQuery(year=2019),
    NetworkQuery(theme="alimentation", country="BE"),
    NetworkQuery(network_type="action_planning", programme="URBACT III", country="FR", year=2015),
    NetworkQuery(city="lyon", theme="jeunesse"),
    NetworkQuery(city="x' OR 1=1 --"),
    NetworkQuery(),
]


@pytest_asyncio.fixture
async def factory(db_url, kb) -> AsyncIterator[SqlRepositoryFactory]:  # type: ignore[no-untyped-def]
    await import_data.import_knowledge_base(kb, db_url)
    engine = create_engine(db_url)
    try:
        yield SqlRepositoryFactory(engine)
    finally:
        await engine.dispose()


async def test_search_queries(factory):  # type: ignore[no-untyped-def]
    async with factory() as repo:
        youth = {n.slug for n in await repo.search_networks(NetworkQuery(theme="jeunesse"))}
        assert {"gen-y-city", "onstage", "schoolhoods"} <= youth
        french_iv = {n.slug for n in await repo.search_networks(NetworkQuery(programme="URBACT IV", country="FR"))}
        assert french_iv == {"eat4climate", "shift-r", "breaking-isolation", "beyond-the-urban", "digi-inclusion"}
        assert len(await repo.search_networks(NetworkQuery(year=2019))) == 11
        led_from_france = await repo.search_networks(NetworkQuery(programme="URBACT IV", lead_country="FR"))
        assert {n.slug for n in led_from_france} == {"eat4climate", "breaking-isolation"}
        assert await repo.search_networks(NetworkQuery(city="x' OR 1=1 --")) == []


async def test_details_city_calls_contacts(factory):  # type: ignore[no-untyped-def]
    async with factory() as repo:
        boost = await repo.get_network("boostinno")
        assert boost is not None and boost.lead is not None and boost.lead.name == "Gdańsk"
        assert [m.city.slug for m in boost.members[:3]] == ["gdansk", "paris", "strasbourg"]
        assert "Innovation sociale" in boost.theme_labels
        assert await repo.get_network("nope") is None
        mouans = await repo.get_city("mouans-sartoux")
        assert mouans is not None
        assert [m.network.slug for m in mouans.participations] == [
            "eat4climate", "biocanteens-2", "biocanteens", "agri-urban"]
        nantes = await repo.get_city("nantes")
        assert nantes is not None and [c.slug for c in await repo.cities(nantes.see_also)] == ["nantes-metropole"]
        open_april = {c.slug for c in await repo.open_calls(date(2026, 4, 1))}
        assert open_april == {"urbact4-action-networks-2026", "eui-ia-call-4"}
        last = await repo.last_closed_calls(date(2026, 11, 26), kind="urbact")
        assert [c.slug for c in last] == ["urbact4-action-networks-2026"]
        assert (await repo.upcoming_calls(date(2026, 3, 1), kind="urbact"))[0].slug == "urbact4-action-networks-2026"
        contacts = await repo.contact_points("FR")
        assert [c.person for c in contacts] == ["Lauryn Pignarre", "Mathieu Copere"]
        catalogue = await repo.catalogue()
        assert len(catalogue.networks) == 65 and "FR" in catalogue.country_codes


def plain(value: Any, nested: bool = False) -> Any:
    """A record as comparable data: its columns (not its ids) and what the actions read of its links
    (a network's lead and themes; at the top level, a network's members and a city's networks)."""
    if isinstance(value, (list, tuple)):
        return [plain(v, nested) for v in value]
    if isinstance(value, dict):
        return {k: plain(v, nested) for k, v in value.items()}
    if not isinstance(value, Record):
        return value
    state = sa_inspect(value)
    out = {c.key: getattr(value, c.key) for c in state.mapper.column_attrs if not c.key.endswith("id")}
    if isinstance(value, Network):
        out["lead"] = plain(value.lead, nested=True)
        out["theme_labels"] = value.theme_labels
        if not nested and "memberships" not in state.unloaded:
            out["members"] = [(plain(m.city, nested=True), m.role) for m in value.members]
    if isinstance(value, City) and not nested and "memberships" not in state.unloaded:
        out["participations"] = [(plain(m.network, nested=True), m.role) for m in value.participations]
    return out


async def answers(factory: SqlRepositoryFactory) -> list[Any]:
    """Every kind of answer of the repository, for the questions of QUERIES and a few more."""
    slugs = ["gen-y-city", "boostinno", "biocanteens", "urbinclusion", "no-such-network"]
    async with factory() as repo:
        out: list[Any] = [await repo.search_networks(query) for query in QUERIES]
        out += [await repo.get_network(s) for s in ("boostinno", "agri-urban", "cope", "eat4climate", "user")]
        out += [await repo.get_city(s) for s in ("mouans-sartoux", "nantes", "meylan", "gdansk")]
        out += [await repo.cities(["nantes-metropole", "nantes", "nowhere"])]
        for day in (date(2015, 5, 1), date(2024, 3, 20), date(2026, 11, 26)):
            out += [await repo.open_calls(day), await repo.last_closed_calls(day, "urbact", 3),
                    await repo.upcoming_calls(day)]
        out += [await repo.list_calls("other"), await repo.contact_points("FR")]
        out += [await repo.cities_in_country(slugs, country) for country in ("PL", "FR", "IT")]
        catalogue = await repo.catalogue()
        out += [set(catalogue.cities), set(catalogue.networks), catalogue.country_codes]
    return [plain(answer) for answer in out]


async def test_sqlite_and_postgresql_repositories_agree(postgres_database, tmp_path, kb):  # type: ignore[no-untyped-def]
    """The same answers, in the same order, from both backends (ordering is not left to SQL)."""
    results = []
    for url in (f"sqlite+aiosqlite:///{tmp_path / 'urbact.db'}", postgres_database):
        await import_data.import_knowledge_base(kb, url)
        engine = create_engine(url)
        try:
            factory = SqlRepositoryFactory(engine)
            results.append(await answers(factory))
            async with factory() as repo:
                assert "Poznań" in (await repo.cities_in_country(["gen-y-city"], "PL"))["gen-y-city"]
        finally:
            await engine.dispose()
    sqlite, postgresql = results
    assert len(sqlite) == len(postgresql)
    for on_sqlite, on_postgresql in zip(sqlite, postgresql):
        assert on_sqlite == on_postgresql


async def test_deadline_is_enforced(db_url, kb):  # type: ignore[no-untyped-def]
    await import_data.import_knowledge_base(kb, db_url)
    engine = create_engine(db_url)
    try:
        factory = SqlRepositoryFactory(engine, timeout=0.2)
        async with factory() as repo:
            assert isinstance(repo, SqlRepository)
            slow = "select pg_sleep(3)" if db_url.startswith("postgresql") else (
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c")
            started = asyncio.get_running_loop().time()
            with pytest.raises(RepositoryTimeout):
                await repo._run("slow", repo._session.execute(text(slow)))
            assert asyncio.get_running_loop().time() - started < 1.5
        # the statement was cancelled (PostgreSQL) or interrupted (SQLite): the next unit of
        # work gets a healthy connection
        async with factory() as repo:
            assert len((await repo.catalogue()).networks) == 65
    finally:
        await engine.dispose()


async def test_unreachable_or_empty_database_is_reported_as_unavailable(tmp_path):  # type: ignore[no-untyped-def]
    for url in ("postgresql+asyncpg://postgres@127.0.0.1:1/none", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"):
        engine = create_engine(url)
        try:
            async with SqlRepositoryFactory(engine, timeout=1.0)() as repo:
                with pytest.raises(RepositoryUnavailable):
                    await repo.catalogue()
        finally:
            await engine.dispose()


def tracker(intent: str, entities: list[tuple[str, str]]) -> Tracker:
    return build_tracker(intent, entities=entities, sender="t")


async def test_actions_on_the_real_database(factory):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    await ActionCityNetworks(factory).run(dispatcher, tracker("ask_city_networks", [("city", "mouans sartou")]), {})
    assert dispatcher.messages[0]["text"].startswith("Mouans-Sartoux (France) participe à 4 réseaux")
    dispatcher = CollectingDispatcher()
    await ActionOpenCalls(factory, clock=lambda: date(2026, 11, 26)).run(dispatcher, tracker("ask_open_calls", []), {})
    assert "a fermé le 17 juin 2026" in dispatcher.messages[0]["text"]


async def test_concurrent_requests_use_separate_sessions(factory):  # type: ignore[no-untyped-def]
    action = ActionSearchNetworks(factory)
    inputs = [("theme", "jeunesse"), ("city", "Nantes"), ("programme", "URBACT IV"), ("country", "France")] * 6

    async def one(entity: tuple[str, str]) -> str:
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, tracker("search_networks", [entity]), {})
        return dispatcher.messages[0]["text"]

    answers = await asyncio.gather(*(one(e) for e in inputs))
    assert all(a != DB_UNAVAILABLE_TEXT for a in answers)
    assert len(set(answers)) == 4


async def test_action_apologises_when_the_server_is_down(caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.ERROR)
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    try:
        dispatcher = CollectingDispatcher()
        events = await ActionCityNetworks(SqlRepositoryFactory(engine, timeout=1.0)).run(
            dispatcher, tracker("ask_city_networks", [("city", "Nantes")]), {}
        )
    finally:
        await engine.dispose()
    assert [m["text"] for m in dispatcher.messages] == [DB_UNAVAILABLE_TEXT]
    assert events == []
    assert "knowledge base unavailable: action=action_city_networks" in caplog.text
