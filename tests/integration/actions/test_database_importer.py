"""Migrations and the importer (actions/ops/import_data.py) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from database_integration_helpers import DATA_DIR
from sqlalchemy import func, inspect, select, text

from actions.db.engine import create_engine
from actions.db.migrate import alembic_config, upgrade_to_head
from actions.kb import sync as sync_module
from actions.kb.loader import load_knowledge_base
from actions.kb.models import City, FundingCall, Membership, Network, Theme, network_themes
from actions.ops import import_data

pytestmark = pytest.mark.asyncio

TABLES = {"themes", "cities", "networks", "network_themes", "memberships", "funding_calls",
          "contact_points", "alembic_version"}


async def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            if "networks" not in tables:
                return {}
            out = {}
            for name, model in (("networks", Network), ("cities", City), ("memberships", Membership),
                                ("themes", Theme), ("calls", FundingCall)):
                out[name] = (await conn.execute(select(func.count()).select_from(model))).scalar_one()
            out["network_themes"] = (
                await conn.execute(select(func.count()).select_from(network_themes))
            ).scalar_one()
            return out
    finally:
        await engine.dispose()


def copy_kb(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(DATA_DIR, target)
    return target


def run_main(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    if "--names" not in args and "--check-lookups" not in args:  # never the real var/ file
        args = (*args, "--names", str(Path(tempfile.mkdtemp()) / "kb_names.json"))
    code = import_data.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_upgrade_head_creates_the_schema(db_url):  # type: ignore[no-untyped-def]
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to_head, db_url)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            version = (await conn.execute(text("select version_num from alembic_version"))).scalar_one()
        assert TABLES <= tables
        head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
        assert version == head
        # running it again is a no-op
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to_head, db_url)
    finally:
        await engine.dispose()


async def test_import_then_second_run_reports_zero_changes(db_url, kb, tmp_path):  # type: ignore[no-untyped-def]
    report = await import_data.import_knowledge_base(kb, db_url)
    assert len(report.tables["networks"].added) == len(kb.networks) == 65
    assert len(report.tables["cities"].added) == len(kb.cities)
    assert len(report.tables["memberships"].added) == len(kb.memberships)
    assert len(report.tables["calls"].added) == len(kb.calls)
    n = await counts(db_url)
    assert n["networks"] == 65 and n["cities"] == len(kb.cities) and n["calls"] == len(kb.calls)
    assert n["network_themes"] == sum(len(x.themes) for x in kb.networks)

    again = await import_data.import_knowledge_base(kb, db_url)
    assert again.total == 0
    assert again.lines() == ["0 changes"]


def test_cli_is_idempotent_and_writes_lookups(db_url, tmp_path, capsys):  # type: ignore[no-untyped-def]
    lookups = tmp_path / "lookups.yml"
    code, out, err = run_main(capsys, "--database-url", db_url, "--lookups", str(lookups))
    assert code == 0, err
    assert "networks: 65 added, 0 updated, 0 removed" in out
    assert f"{lookups}: updated" in out or "lookups.yml: updated" in out
    code, out, _ = run_main(capsys, "--database-url", db_url, "--lookups", str(lookups))
    assert code == 0
    assert "0 changes" in out and "unchanged" in out
    code, out, _ = run_main(capsys, "--check-lookups", "--lookups", str(lookups))
    assert code == 0 and "up to date" in out
    lookups.write_text(lookups.read_text(encoding="utf-8") + "    - Atlantis\n", encoding="utf-8")
    code, _, err = run_main(capsys, "--check-lookups", "--lookups", str(lookups))
    assert code == 1 and "is stale" in err


def test_cli_writes_the_names_the_nlu_reads(db_url, tmp_path, capsys):  # type: ignore[no-untyped-def]
    data = copy_kb(tmp_path)
    with (data / "cities.csv").open("a", encoding="utf-8") as handle:
        handle.write("lons-le-saunier,Lons-le-Saunier,Lons,FR,city,,,https://example.org\n")
    names = tmp_path / "names.json"
    code, out, err = run_main(capsys, "--database-url", db_url, "--data-dir", str(data),
                              "--lookups", str(tmp_path / "l.yml"), "--names", str(names))
    assert code == 0, err
    entities = json.loads(names.read_text(encoding="utf-8"))["entities"]
    assert {"value": "Lons-le-Saunier", "names": ["Lons-le-Saunier", "Lons"]} in entities["city"]
    assert any(e["value"] == "Pologne" and "polonaises" in e["names"] for e in entities["country"])
    assert len(entities["network"]) == 65 and len(entities["theme"]) > 20


async def test_update_reporting(db_url, tmp_path):  # type: ignore[no-untyped-def]
    data = copy_kb(tmp_path)
    await import_data.import_knowledge_base(load_knowledge_base(data), db_url)

    networks = data / "networks.csv"
    networks.write_text(
        networks.read_text(encoding="utf-8").replace(
            "Renforcer les écosystèmes locaux", "Consolider les écosystèmes locaux"
        ),
        encoding="utf-8",
    )
    memberships = data / "memberships.csv"
    rows = memberships.read_text(encoding="utf-8").splitlines(keepends=True)
    removed = [r for r in rows if r.startswith("boostinno,strasbourg,")]
    assert len(removed) == 1
    memberships.write_text("".join(r for r in rows if r not in removed), encoding="utf-8")
    with (data / "cities.csv").open("a", encoding="utf-8") as handle:
        handle.write("brest,Brest,,FR,city,,,\n")
    with (data / "themes.csv").open("a", encoding="utf-8") as handle:
        handle.write("sante,Santé,santé publique\n")

    report = await import_data.import_knowledge_base(load_knowledge_base(data), db_url)
    assert report.tables["networks"].updated == ["boostinno"]
    assert report.tables["memberships"].removed == ["boostinno/strasbourg"]
    assert report.tables["cities"].added == ["brest"]
    assert report.tables["themes"].added == ["sante"]
    assert report.total == 4
    assert "networks: 0 added, 1 updated, 0 removed" in report.lines()

    # removing a network removes its memberships and theme links too
    text_ = networks.read_text(encoding="utf-8").splitlines(keepends=True)
    networks.write_text("".join(r for r in text_ if not r.startswith("weed,")), encoding="utf-8")
    memberships.write_text(
        "".join(r for r in memberships.read_text(encoding="utf-8").splitlines(keepends=True)
                if not r.startswith("weed,")),
        encoding="utf-8",
    )
    report = await import_data.import_knowledge_base(load_knowledge_base(data), db_url)
    assert report.tables["networks"].removed == ["weed"]
    assert report.tables["memberships"].removed == ["weed/umea"]
    n = await counts(db_url)
    assert n["networks"] == 64


def test_bad_rows_give_file_line_and_import_nothing(db_url, tmp_path, capsys):  # type: ignore[no-untyped-def]
    data = copy_kb(tmp_path)
    with (data / "memberships.csv").open("a", encoding="utf-8") as handle:
        handle.write("boostinno,atlantis,partner,https://example.org\n")
    line = sum(1 for _ in (data / "memberships.csv").open(encoding="utf-8"))
    with (data / "networks.csv").open("a", encoding="utf-8") as handle:
        handle.write("new-net,New Net,,transfer,URBACT IV,,,nope,Desc,,false,https://example.org\n")
    net_line = sum(1 for _ in (data / "networks.csv").open(encoding="utf-8"))

    code, out, err = run_main(capsys, "--database-url", db_url, "--data-dir", str(data),
                              "--lookups", str(tmp_path / "l.yml"))
    assert code == 1
    assert f"memberships.csv:{line}: unknown city 'atlantis'" in err
    assert f"networks.csv:{net_line}: column 'themes': unknown theme 'nope'" in err
    assert "nothing was imported" in err
    assert not (tmp_path / "l.yml").exists()
    assert asyncio_run(counts(db_url)) == {}  # not even migrated


def test_bad_data_leaves_a_populated_database_unchanged(db_url, tmp_path, capsys):  # type: ignore[no-untyped-def]
    data = copy_kb(tmp_path)
    code, _, err = run_main(capsys, "--database-url", db_url, "--data-dir", str(data),
                            "--lookups", str(tmp_path / "l.yml"))
    assert code == 0, err
    before = asyncio_run(counts(db_url))
    networks = data / "networks.csv"
    networks.write_text(networks.read_text(encoding="utf-8").replace(",URBACT IV,", ",URBACT 5,", 1),
                        encoding="utf-8")
    (data / "calls.csv").write_text("", encoding="utf-8")
    code, _, err = run_main(capsys, "--database-url", db_url, "--data-dir", str(data),
                            "--lookups", str(tmp_path / "l.yml"))
    assert code == 1
    assert "networks.csv:" in err and "calls.csv:1: file is empty" in err
    assert asyncio_run(counts(db_url)) == before


async def test_failure_during_sync_rolls_everything_back(db_url, kb, monkeypatch):  # type: ignore[no-untyped-def]
    real = sync_module.sync_knowledge_base

    async def explode(session, kb_):  # type: ignore[no-untyped-def]
        await real(session, kb_)  # everything is flushed...
        raise RuntimeError("disk full")  # ...then the import fails

    monkeypatch.setattr(sync_module, "sync_knowledge_base", explode)
    with pytest.raises(RuntimeError):
        await import_data.import_knowledge_base(kb, db_url)
    n = await counts(db_url)
    assert n["networks"] == 0 and n["cities"] == 0 and n["memberships"] == 0


def asyncio_run(coro):  # type: ignore[no-untyped-def]
    import asyncio

    return asyncio.run(coro)
