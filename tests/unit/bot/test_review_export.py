"""`make review-export`: conversations written through Rasa's own SQLTrackerStore (SQLite),
read back by bot/ops/review.py into the CSV staff label."""

from __future__ import annotations

import csv
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.ops import review

TODAY = datetime.now(timezone.utc).date()


def said(text: str, intent: str, confidence: float, answer: str,
         ranking: Optional[List[Dict[str, object]]] = None) -> List[Event]:
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        "entities": [],
    }
    stamp = time.time()
    return [
        UserUttered(text, intent=parse_data["intent"], parse_data=parse_data, timestamp=stamp),
        ActionExecuted(answer, timestamp=stamp),
        BotUttered("…", timestamp=stamp),
        ActionExecuted("action_listen", timestamp=stamp),
    ]


def fallback(text: str, guess: str = "ask_benefits", confidence: float = 0.31) -> List[Event]:
    ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": guess, "confidence": confidence}]
    return said(text, "nlu_fallback", 0.45, "action_rephrase", ranking)


@pytest.fixture
def events_db(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


async def record(events_db: Path, sender: str, events: List[Event]) -> None:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(events_db))
    await store.save(DialogueStateTracker.from_events(sender, events))


def exported(events_db: Path, out_dir: Path) -> List[Dict[str, str]]:
    path, _ = review.export(TODAY, TODAY, f"sqlite:///{events_db}", out_dir)
    assert path == out_dir / f"review-{TODAY}-{TODAY}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == list(review.COLUMNS)
        return list(reader)


async def test_missed_and_unsure_messages_are_exported_masked_and_deduplicated(
    events_db: Path, tmp_path: Path
) -> None:
    await record(events_db, "socketio:abc123", [
        *said("est-ce que notre équipe doit être bilingue ?", "myth_english", 0.97, "utter_myth_english"),
        *fallback("quel temps fait-il à Lille ?"),
        *said("c'est combien le budget ?", "ask_funding_programme", 0.52, "utter_ask_funding_programme"),
        *said("raconte une blague", "out_of_scope", 0.91, "utter_out_of_scope"),
        *said('/feedback{"rating":"down"}', "feedback", 1.0, "utter_feedback_thanks"),
    ])
    await record(events_db, "rest:other-person", [
        *fallback("Quel temps fait il a Lille ?"),
        *fallback("écrivez-moi à jeanne.martin@ville.fr ou au 06 12 34 56 78", "ask_contact_point", 0.2),
    ])

    rows = exported(events_db, tmp_path / "out")

    by_message = {row["message"]: row for row in rows}
    weather = by_message["quel temps fait-il à Lille ?"]
    assert weather == {"message": "quel temps fait-il à Lille ?", "intention_comprise": "ask_benefits",
                       "confiance": "0.310", "occurrences": "2", "intention_correcte": ""}
    assert by_message["c'est combien le budget ?"]["intention_comprise"] == "ask_funding_programme"
    assert "raconte une blague" in by_message
    masked = [text for text in by_message if "écrivez-moi" in text]
    assert masked == ["écrivez-moi à [e-mail] ou au [téléphone]"]
    assert len(rows) == 4  # the sure answer and the thumb are not there
    assert rows[0]["message"] == "quel temps fait-il à Lille ?"  # the most typed first
    csv_text = (tmp_path / "out" / f"review-{TODAY}-{TODAY}.csv").read_text(encoding="utf-8")
    assert "abc123" not in csv_text and "other-person" not in csv_text and "jeanne" not in csv_text


async def test_answers_typed_in_the_handoff_form_are_never_exported(events_db: Path, tmp_path: Path) -> None:
    stamp = time.time()
    await record(events_db, "socketio:form", [
        *said("je voudrais parler à quelqu'un", "request_handoff", 0.9, "handoff_form"),
        ActiveLoop("handoff_form", timestamp=stamp),
        *said("Jeanne Martin", "inform", 0.2, "handoff_form"),
        *said("Mairie de Saint-Aubin", "ask_city_networks", 0.3, "handoff_form"),
        ActiveLoop(None, timestamp=stamp),
        *fallback("et après ?"),
    ])
    assert [row["message"] for row in exported(events_db, tmp_path)] == ["et après ?"]


def test_an_empty_store_gives_a_csv_with_its_header_only(events_db: Path, tmp_path: Path) -> None:
    assert exported(events_db, tmp_path) == []


async def test_the_command_reads_the_period_and_says_where_it_wrote(
    events_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await record(events_db, "rest:x", fallback("ou est la gare ?"))
    yesterday = date.fromordinal(TODAY.toordinal() - 1)
    status = review.main(["export", "--since", str(yesterday), "--conversations-url",
                          f"sqlite:///{events_db}", "--out-dir", str(tmp_path)])
    assert status == 0
    assert f"1 message(s) à revoir du {yesterday} au {TODAY}" in capsys.readouterr().out
    old = review.main(["export", "--since", "2020-01-01", "--until", "2020-01-07",
                       "--conversations-url", f"sqlite:///{events_db}", "--out-dir", str(tmp_path)])
    assert old == 0
    assert "0 message(s)" in capsys.readouterr().out
    assert review.main(["export", "--since", "2020-02-01", "--until", "2020-01-01",
                        "--conversations-url", f"sqlite:///{events_db}"]) == 2
