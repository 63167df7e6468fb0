"""data/kb validation (actions/kb/loader.py), generated lookups, and action registration."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from actions.kb.loader import DataValidationError, load_knowledge_base
from actions.kb.lookups import build_lookups

REPO_ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = REPO_ROOT / "data" / "kb"


def test_knowledge_base_counts(kb):  # type: ignore[no-untyped-def]
    assert len(kb.networks) == 65
    assert len(kb.cities) >= 260
    assert len(kb.calls) >= 16
    assert {c.kind for c in kb.calls} == {"urbact", "other"}
    # every row keeps at least one source
    assert all(n.source_urls for n in kb.networks)
    assert all(m.source_urls for m in kb.memberships)
    assert all(c.source_urls for c in kb.calls)


def test_brochure_networks_and_french_cities_are_present(kb):  # type: ignore[no-untyped-def]
    pairs = {(m.network.slug, m.city.slug) for m in kb.memberships}
    for pair in [("arrival-cities", "val-de-marne"), ("gen-y-city", "nantes"), ("boostinno", "strasbourg"),
                 ("agri-urban", "pays-des-condruses"), ("agri-urban", "mouans-sartoux"),
                 ("retailink", "romans-sur-isere")]:
        assert pair in pairs
    brochure = [m for m in kb.memberships if "seed:000_e809008bad1e9be8" in m.source_urls]
    assert len(brochure) == 6


def test_lookup_file_is_fresh(kb):  # type: ignore[no-untyped-def]
    """data/nlu/lookups.yml must be regenerated (python -m actions.ops.import_data) after a CSV edit."""
    assert (REPO_ROOT / "data" / "nlu" / "lookups.yml").read_text(encoding="utf-8") == build_lookups(kb)


def test_lookups_contain_aliases_as_synonyms(kb):  # type: ignore[no-untyped-def]
    text = build_lookups(kb)
    assert "- synonym: Romans-sur-Isère\n  examples: |\n    - Romans\n" in text
    assert "- lookup: theme" in text and "    - circuits courts\n" in text


def _copy(tmp_path):  # type: ignore[no-untyped-def]
    target = tmp_path / "kb"
    shutil.copytree(DATA_DIR, target)
    return target


def _append(path, row):  # type: ignore[no-untyped-def]
    with path.open("a", encoding="utf-8") as handle:
        handle.write(row + "\n")
    return sum(1 for _ in path.open(encoding="utf-8"))


def test_bad_rows_report_file_line_and_reason(tmp_path):  # type: ignore[no-untyped-def]
    data = _copy(tmp_path)
    net_line = _append(data / "networks.csv",
                       "bad-net,Bad Net,,transfer,URBACT V,2019-2018,2019,jeunesse; xyz,Desc,,maybe,https://example.org")
    mem_line = _append(data / "memberships.csv", "boostinno,atlantis,partner,https://example.org")
    call_line = _append(data / "calls.csv",
                        "late-call,Appel,urbact,URBACT,2024-05-01,2024-04-01,,12k,notaurl,,https://example.org")
    with pytest.raises(DataValidationError) as info:
        load_knowledge_base(data)
    messages = [str(e) for e in info.value.errors]
    # one message per bad row (its first problem), every bad row of every file reported
    assert any(m.endswith(f"networks.csv:{net_line}: column 'period': end year 2018 is before start year 2019")
               for m in messages), messages
    assert any(f"memberships.csv:{mem_line}: unknown city 'atlantis'" in m for m in messages)
    assert any(f"calls.csv:{call_line}: closes_on is before opens_on" in m for m in messages)


@pytest.mark.parametrize(
    ("file", "row", "expected"),
    [
        ("cities.csv", "agen,Agen bis,,FR,city,,,", "slug 'agen' is already used on line"),
        ("cities.csv", "agen-2,AGEN,,FR,city,,,", "city name or alias 'AGEN' is already used by 'agen'"),
        ("cities.csv", "zz,Zz,,XX,city,,,", "column 'country': 'XX' is not one of"),
        ("themes.csv", "sport,Sport,jeunes", "theme label or synonym 'jeunes' is already used by 'jeunesse'"),
        ("memberships.csv", "boostinno,paris,lead,https://example.org", "already listed in 'boostinno'"),
        ("networks.csv", "x,X,,transfer,URBACT IV,,2019-13-01,,D,,false,https://a.org", "is not a date"),
        ("contact_points.csv", "x,FR,Org,,,,,ftp://nope", "is not an http(s) URL"),
    ],
)
def test_each_rule_is_enforced(tmp_path, file, row, expected):  # type: ignore[no-untyped-def]
    data = _copy(tmp_path)
    line = _append(data / file, row)
    with pytest.raises(DataValidationError) as info:
        load_knowledge_base(data)
    assert any(f"{file}:{line}:" in str(e) and expected in str(e) for e in info.value.errors), info.value


def test_bad_header_is_reported_on_line_1(tmp_path):  # type: ignore[no-untyped-def]
    data = _copy(tmp_path)
    text = (data / "themes.csv").read_text(encoding="utf-8").replace("slug,label,synonyms", "slug,libelle,synonyms", 1)
    (data / "themes.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_knowledge_base(data)
    assert any(str(e).endswith("themes.csv:1: bad header (missing label; unknown libelle); expected: slug,label,synonyms")
               for e in info.value.errors)


def test_actions_register_in_the_sdk_executor_without_rasa():  # type: ignore[no-untyped-def]
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    mine = {"action_search_networks", "action_network_details", "action_network_lead",
            "action_network_partners", "action_city_networks", "action_inform", "action_open_calls",
            "action_last_call", "action_implementation_funding", "action_contact_point", "action_countries",
            "action_local_strategy", "action_existing_projects"}
    assert mine <= set(executor.actions)
    assert not any(name == "rasa" or name.startswith("rasa.") for name in sys.modules)
