"""Our trainable NLU components train, persist, load and process through Rasa's own storage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.intent_rescue import IntentRescue
from bot.nlu.kb_entities import KnowledgeBaseEntityExtractor
from bot.nlu.linear_intent import LinearIntentClassifier

EXAMPLES = [
    ("on n'a pas le temps pour ça", "myth_time"),
    ("nos agents sont débordés", "myth_time"),
    ("cela prend trop de temps", "myth_time"),
    ("faut-il parler anglais ?", "myth_english"),
    ("notre équipe ne parle pas anglais", "myth_english"),
    ("on baragouine l'anglais", "myth_english"),
    ("un roman à lire", "out_of_scope"),
]


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "model").mkdir()
    return LocalModelStorage(tmp_path / "model")


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def training_data() -> TrainingData:
    return TrainingData([Message.build(text, intent) for text, intent in EXAMPLES])


def test_entity_extractor_round_trip(storage: LocalModelStorage, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    names = tmp_path / "kb_names.json"
    names.write_text(json.dumps({"version": 1, "entities": {"city": [{"value": "Roman", "names": ["Roman"]},
                                                                   {"value": "Agen", "names": ["Agen"]}]}}))
    monkeypatch.setenv("KB_NAMES_FILE", str(names))
    resource = Resource("kb")
    trained = KnowledgeBaseEntityExtractor.create({}, storage, resource, context())
    trained.train(training_data())
    assert "roman" in trained.common_words
    loaded = KnowledgeBaseEntityExtractor.load({}, storage, resource, context())
    message = Message({TEXT: "un roman sur agen"})
    loaded.process([message])
    assert [(e["entity"], e["value"]) for e in message.get(ENTITIES)] == [("city", "Agen")]


def test_a_learned_network_that_is_a_lower_case_word_is_dropped(storage: LocalModelStorage, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    names = tmp_path / "kb_names.json"
    names.write_text(json.dumps({"version": 1, "entities": {"network": [{"value": "REFILL", "names": ["REFILL"]}]}}))
    monkeypatch.setenv("KB_NAMES_FILE", str(names))
    extractor = KnowledgeBaseEntityExtractor.create({}, storage, Resource("kb"), context())
    extractor.train(training_data())

    def learned(text: str, span: str) -> Message:
        start = text.index(span)
        entity = {"entity": "network", "start": start, "end": start + len(span), "value": span,
                  "extractor": "CRFEntityExtractor"}
        return Message({TEXT: text, ENTITIES: [entity]})

    guessed, unknown, known = (learned("qui pilotait ce reseau ?", "pilotait"),
                               learned("et le réseau Zorglub ?", "Zorglub"),
                               learned("le reseau refil", "refil"))
    extractor.process([guessed, unknown, known])
    assert guessed.get(ENTITIES) == []
    assert [e["value"] for e in unknown.get(ENTITIES)] == ["Zorglub"]  # a name: "not in my base" is useful
    assert [(e["value"], e["extractor"]) for e in known.get(ENTITIES)] == [("REFILL", "KnowledgeBaseEntityExtractor")]


def test_intent_rescue_round_trip(storage: LocalModelStorage) -> None:
    resource = Resource("rescue")
    config = {"domain_file": None}
    IntentRescue.create(config, storage, resource, context()).train(training_data())
    loaded = IntentRescue.load(config, storage, resource, context())
    message = Message({TEXT: "franchement au service on baragouine trois mots d'anglais"})
    message.set(INTENT, {"name": "myth_time", "confidence": 0.3})
    message.set(INTENT_RANKING_KEY, [{"name": "myth_time", "confidence": 0.3}, {"name": "myth_english", "confidence": 0.28}])
    loaded.process([message])
    assert message.get(INTENT)["name"] == "myth_english"
    assert message.get("answer_search")["rescued"] is True


def test_missing_state_is_logged_not_fatal(storage: LocalModelStorage, caplog) -> None:  # type: ignore[no-untyped-def]
    loaded = IntentRescue.load({}, storage, Resource("never-trained"), context())
    assert loaded.search is None and "DIET alone decides" in caplog.text
    message = Message({TEXT: "bonjour"})
    assert loaded.process([message]) == [message]


def test_linear_intent_round_trip(storage: LocalModelStorage) -> None:
    """Trained, persisted without pickle, loaded: the same ranking, folded accents understood."""
    resource = Resource("linear")
    trained = LinearIntentClassifier.create({"min_char_df": 1}, storage, resource, context())
    trained.train(training_data())
    loaded = LinearIntentClassifier.load({"min_char_df": 1}, storage, resource, context())
    before, after = Message({TEXT: "notre equipe parle pas l'anglais"}), Message({TEXT: "notre equipe parle pas l'anglais"})
    trained.process([before])
    loaded.process([after])
    assert after.get(INTENT)["name"] == "myth_english"
    assert after.get(INTENT_RANKING_KEY) == before.get(INTENT_RANKING_KEY)
    assert sum(r["confidence"] for r in after.get(INTENT_RANKING_KEY)) == pytest.approx(1.0, abs=1e-5)
    with storage.read_from(resource) as path:
        assert sorted(p.name for p in path.iterdir()) == ["arrays.npz", "vocabularies.json"]


def test_linear_intent_without_state_leaves_intent(storage: LocalModelStorage) -> None:
    loaded = LinearIntentClassifier.load({}, storage, Resource("never-trained"), context())
    message = Message({TEXT: "bonjour", INTENT: {"name": "greet", "confidence": 0.9}})
    loaded.process([message])
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.9}
