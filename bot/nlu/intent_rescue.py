"""NLU component: when DIET hesitates, let the closest of the assistant's answers decide.

Runs after DIET and the knowledge-base entity extractor, before the FallbackClassifier.
DIET knows its training sentences well but hesitates on long sentences, complaints and
words it never saw; the FallbackClassifier then asks the person to rephrase. Here, when
DIET's best intent is below `diet_threshold` (or within `ambiguity` of the second), every
topic is scored by `bot/nlu/answer_search.py` (TF-IDF over its training sentences and its
own answer) and the two opinions are mixed: `weight` x DIET's confidence + (1 - weight) x
the search score. When the best mixed topic has a search score of at least `min_search`
and leads the second by `margin`, it becomes the intent, with a confidence just above the
fallback threshold; otherwise the message is left to the fallback, which offers the
closest topics. What happened is recorded in the parse data under `answer_search` (read by
the rephrase action and the evaluation).

The answers are read from `domain_file` when the component trains. Rasa's training cache
keys this component on the NLU data and its configuration only, so a change to an answer's
text alone is indexed at the next training of the NLU (any change to data/nlu or
config.yml), not at once; the answers' wording matters much less to the search than the
training sentences do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Text, Tuple

import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.answer_search import AnswerSearch, Document, Span, normalise
from bot.nlu.json_state import JsonStateComponent
from bot.nlu.kb_names import words_of

logger = logging.getLogger(__name__)

OUTPUT_KEY = "answer_search"
THEME_SEARCH = "search_networks"


def spans_of(message: Message) -> List[Span]:
    return [
        Span(int(e["start"]), int(e["end"]), str(e.get("entity")))
        for e in message.get(ENTITIES) or []
        if isinstance(e, dict) and "start" in e and "end" in e
    ]


def response_texts(domain_file: Path) -> Dict[str, List[str]]:
    """The texts of each `utter_<intent>` response of the domain, by intent."""
    try:
        domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        logger.warning("Answers not indexed: cannot read %s (%s).", domain_file, error)
        return {}
    texts: Dict[str, List[str]] = {}
    for name, variants in (domain.get("responses") or {}).items():
        if not str(name).startswith("utter_"):
            continue
        for variant in variants or []:
            if isinstance(variant, dict) and isinstance(variant.get("text"), str):
                texts.setdefault(str(name)[len("utter_") :], []).append(variant["text"])
    return texts


def documents_from(training_data: TrainingData, domain_file: Optional[Path]) -> List[Document]:
    documents: List[Document] = []
    intents = set()
    for message in training_data.intent_examples:
        intent, text = message.get(INTENT), message.get(TEXT)
        if intent and text:
            intents.add(intent)
            documents.append(Document(intent, normalise(text, spans_of(message)), False))
    if domain_file is not None:
        for intent, texts in response_texts(domain_file).items():
            if intent in intents:
                documents += [Document(intent, normalise(t), True) for t in texts]
    return documents


@dataclass(frozen=True)
class Clues:
    """What the message itself says about which intents are possible."""

    named: bool = False  # a city, network or country is named
    long: bool = False  # more words than a greeting or a thank-you alone
    theme: bool = False  # a theme of the knowledge base is named ("nos commerces ferment")


def clues_of(spans: Sequence[Span], text: str, config: Dict[str, Any]) -> Clues:
    named = any(s.entity in ("city", "network", "country") for s in spans)
    theme = any(s.entity == "theme" for s in spans)
    return Clues(named, len(words_of(text)) > int(config["courtesy_max_words"]), theme)


def excluded_intents(config: Dict[str, Any], clues: Clues) -> Set[str]:
    """Intents the rescue never picks for this message.

    A bare follow-up (`inform`) needs a place named ("et à Grenoble ?"); a greeting or a
    thank-you cannot be the point of a long message ("bonjour, est-ce que Lons-le-Saunier
    fait partie d'un réseau ?").
    """
    excluded = set(config["never_rescue_to"])
    if not clues.named:
        excluded |= set(config["needs_entity"])
    if clues.long:
        excluded |= set(config["courtesy"])
    return excluded


def diet_is_sure(diet: Sequence[Tuple[str, float]], config: Dict[str, Any], excluded: Set[str]) -> bool:
    """DIET's best intent is confident, clear of the second, and possible for this message."""
    if diet[0][0] in excluded - set(config["never_rescue_to"]):
        return False
    top = diet[0][1]
    second = diet[1][1] if len(diet) > 1 else 0.0
    return top >= config["diet_threshold"] and top - second >= config["ambiguity"]


def decide(
    diet: Sequence[Tuple[str, float]],
    search: Sequence[Tuple[str, float]],
    config: Dict[str, Any],
    clues: Clues = Clues(),
) -> Optional[Tuple[str, float]]:
    """The rescued intent and its mixed score, or None when DIET stands or nothing is clear."""
    excluded = excluded_intents(config, clues)
    if diet and diet_is_sure(diet, config, excluded):
        return None
    diet_conf = dict(diet)
    weight = float(config["weight"])
    mixed = sorted(
        (
            (name, weight * diet_conf.get(name, 0.0) + (1 - weight) * score, score)
            for name, score in search
            if name not in excluded
        ),
        key=lambda item: item[1],
        reverse=True,
    )
    best, runner_up = (mixed + [("", 0.0, 0.0)] * 2)[:2]
    if best[0] and best[2] >= config["min_search"] and best[1] - runner_up[1] >= config["margin"]:
        return best[0], best[1]
    if clues.theme and config.get("theme_fallback", True) and THEME_SEARCH not in excluded:
        # Nothing clear, but a theme is named: the networks on it are the best answer.
        return THEME_SEARCH, float(config["diet_threshold"])
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentRescue(JsonStateComponent, IntentClassifier):
    """Second opinion from the assistant's own sentences and answers when DIET hesitates."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "domain_file": "domain.yml",  # answers indexed with the sentences
            "answer_weight": 0.8,
            "diet_threshold": 0.45,  # keep equal to the FallbackClassifier's threshold
            "ambiguity": 0.05,  # keep equal to its ambiguity_threshold
            "weight": 0.5,
            "min_search": 0.3,
            "margin": 0.05,
            "theme_fallback": True,  # nothing clear but a theme named: search its networks
            "never_rescue_to": ["affirm", "deny", "quiz_answer_info", "quiz_answer_intox"],
            "needs_entity": ["inform"],
            "courtesy": ["greet", "thank", "goodbye"],
            "courtesy_max_words": 8,
        }

    STATE_FILE = "answer_search.json"
    MISSING_STATE = "DIET alone decides"

    def set_state(self, state: Any) -> None:
        self.search: Optional[AnswerSearch] = AnswerSearch.from_json(state) if state else None

    def train(self, training_data: TrainingData) -> Resource:
        domain_file = self.config.get("domain_file")
        documents = documents_from(training_data, Path(domain_file) if domain_file else None)
        self.search = AnswerSearch(documents, float(self.config["answer_weight"]))
        return self.persist(self.search.to_json())

    def process(self, messages: List[Message]) -> List[Message]:
        if self.search is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if text and not text.startswith("/"):
                self._rescue(message, text)
        return messages

    def _rescue(self, message: Message, text: str) -> None:
        ranking = message.get(INTENT_RANKING_KEY) or []
        diet = [(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in ranking]
        spans = spans_of(message)
        clues = clues_of(spans, text, self.config)
        if diet and diet_is_sure(diet, self.config, excluded_intents(self.config, clues)):
            return  # DIET is sure: no search (it costs a few milliseconds)
        assert self.search is not None
        search = self.search.ranking(normalise(text, spans))
        decision = decide(diet, search, self.config, clues)
        record: Dict[str, Any] = {
            "rescued": False,
            "diet_intent": diet[0][0] if diet else None,
            "candidates": [{"name": n, "score": round(s, 3)} for n, s in search[:3]],
        }
        if decision is not None:
            name, mixed = decision
            confidence = round(max(self.config["diet_threshold"] + 0.1, min(0.99, mixed + 0.5)), 3)
            ceiling = confidence - self.config["ambiguity"] - 0.01
            others = [
                {"name": n, "confidence": min(c, ceiling)} for n, c in diet if n != name
            ]
            message.set(INTENT, {"name": name, "confidence": confidence}, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY, [{"name": name, "confidence": confidence}, *others], add_to_output=True
            )
            record.update(rescued=True, intent=name, score=round(mixed, 3))
        message.set(OUTPUT_KEY, record, add_to_output=True)
