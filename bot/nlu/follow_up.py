"""NLU component: a short follow-up question leans towards the topic of the previous message.

People ask follow-ups the way they talk: "c'est à nous de le payer ?" after a question about
the experts, "et on les voit quand, les résultats ?" after a worry about time. Alone, such a
sentence says little, and the classifier reads it as another topic, as out of scope or as a
"no". Here, with the conversation at hand (Rasa passes the tracker to a component whose
`process` asks for it), a short message whose previous user intent was a real topic gets
that topic when the classifier hesitates: the previous intent becomes the answer when its
confidence plus `boost` reaches the best one, or when the best one is a generic intent
(greeting, yes/no, out of scope...) below `generic_max`, in a message of at least
`min_words_over_generic` words (a plain "oui" or "non merci" stays what it is).

A bare follow-up naming a place ("et strasbourg, elle a fait quoi ?", read as `inform`)
after a question whose answer depends on a place but is not a database search (the field
examples: `named_follow_ups`) asks that same question again about the new place.

A "who" follow-up after a question about the local group ("qui doit en faire partie ?",
"qui le pilote ?") reads like a question about a network's partners or lead; when no
network is named nor was ever discussed, it is about the group (`group_follow_ups`).

A short question on a call's dates, amounts, eligibility or numbers right after an answer
about one funding call ("et combien max par projet ?", "combien de réseaux ont été
retenus ?", "ça ouvre quand exactement ?") is about that call,
whatever general topic the classifier reads in it (`call_follow_ups`: the call intents
answer from the call of the conversation, slot `last_call`). A short question about dates
("il se termine quand ?", "ça se passait quand ?") while a network is in focus is about that
network's dates, not the history of URBACT nor the usual length of a network
(`network_time_follow_ups`).

A follow-up pointing back at the place of a field example ("et leur groupe local, ça s'est
bien passé ?", "ils ont fait quoi pour la suite ?") stays on that example, which tells it
(`example_follow_ups`: the topics such a question reads as).

Runs after the IntentRescue and before the FallbackClassifier. Without a tracker (the
/model/parse endpoint, `rasa test nlu`) it does nothing. What happened is recorded in the
parse data under `follow_up`.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from common.text import POINTS_BACK, fold

# Intents that are not a topic to follow, and that a follow-up question rarely is.
NETWORK_INTENTS = frozenset({"ask_network_partners", "ask_network_lead", "ask_network_details"})
GENERIC = frozenset({
    "greet", "goodbye", "affirm", "deny", "thank", "thanks", "out_of_scope", "help", "bot_challenge",
    "nlu_fallback", "feedback", "answer_not_helpful", "quiz_start", "quiz_stop", "quiz_answer_info",
    "quiz_answer_intox",
})
_WORDS = re.compile(r"\w+")
CALL_INTENTS = frozenset({"ask_open_calls", "ask_last_call"})
NETWORK_FOCUS_INTENTS = NETWORK_INTENTS | {"ask_city_networks", "search_networks", "inform"}
EXAMPLE_INTENT = "ask_field_example"
# What a question about one call asks: its dates, amounts, who may apply, its numbers (folded)
_CALL_FACET = re.compile(
    r"\b(quand|qd|dates?|delais?|ouvr\w*|ferm\w*|clotur\w*|limite|combien|budget|montant|max\w*|euros?"
    r"|eligib\w*|profil|candidat\w*|postuler|qui peut|pour qui|periode|duree|jusqu|retenu\w*|selectionn\w*)\b"
)
# "quand", "en quelle année", "jusqu'à", "les dates", "se termine", "ça commence"... (folded)
_TIME_QUESTION = re.compile(
    r"\b(quand|qd|annees?|dates?|periode|jusqu|termine\w*|fini\w*|commence\w*|demarre\w*|debute\w*)\b"
)


def previous_intent(tracker: Optional[DialogueStateTracker]) -> Optional[str]:
    """The intent of the person's previous message, when it was a real topic."""
    if tracker is None or tracker.latest_message is None:
        return None
    name = (tracker.latest_message.intent or {}).get("name")
    return name if isinstance(name, str) and name not in GENERIC else None


def network_in_conversation(tracker: Optional[DialogueStateTracker]) -> bool:
    """Whether a network was named or listed earlier (its slots are set)."""
    if tracker is None:
        return False
    return bool(tracker.get_slot("network") or tracker.get_slot("last_query"))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FollowUpContext(GraphComponent, IntentClassifier):
    """See the module docstring."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_words": 12, "boost": 0.25, "min_confidence": 0.02, "confidence": 0.6,
                "generic_max": 0.85, "min_words_over_generic": 4,
                "named_follow_ups": {"ask_field_example": "city"},
                "group_follow_ups": ["ulg_what", "ulg_mobilise", "ulg_keep_alive", "ulg_elected_officials"],
                # the general topics a short question after a call answer is read as
                "call_follow_ups": ["ask_funding_programme", "ask_history", "ask_network_duration",
                                    "ask_network_types", "ask_how_to_join", "ask_what_is_urbact",
                                    "ask_benefits", "nlu_fallback",
                                    "out_of_scope", "myth_time", "myth_complexity"],
                "example_follow_ups": ["ulg_what", "ulg_keep_alive", "ulg_mobilise", "ulg_elected_officials",
                                       "ask_city_networks", "ask_network_details", "ask_action_plan",
                                       "benefit_existing_projects", "inform", "nlu_fallback"],
                "network_time_follow_ups": ["ask_history", "ask_network_duration", "ask_open_calls",
                                            "ask_last_call", "nlu_fallback", "out_of_scope", "myth_time"]}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = {**self.get_default_config(), **config}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "FollowUpContext":
        return cls(config)

    def decide(self, ranking: List[Dict[str, Any]], previous: str, words: int,
               entities: Sequence[str] = (), network_known: bool = False) -> bool:
        """Whether `previous` should replace the best intent of `ranking` (a message of `words`
        with entities of the kinds `entities`; `network_known`: the conversation has one)."""
        if not ranking or ranking[0].get("name") == previous or words > int(self.config["max_words"]):
            return False
        if (ranking[0].get("name") in NETWORK_INTENTS and previous in (self.config.get("group_follow_ups") or ())
                and "network" not in entities and not network_known):
            return True
        needed = (self.config.get("named_follow_ups") or {}).get(previous)
        if ranking[0].get("name") == "inform" and needed and needed in entities:
            return True
        best = float(ranking[0].get("confidence") or 0.0)
        mine = next((float(r.get("confidence") or 0.0) for r in ranking if r.get("name") == previous), None)
        if mine is None or mine < float(self.config["min_confidence"]):
            return False
        if ranking[0].get("name") in GENERIC:
            return best < float(self.config["generic_max"]) and words >= int(self.config["min_words_over_generic"])
        return mine + float(self.config["boost"]) >= best

    def focus(self, ranking: List[Dict[str, Any]], previous: str, text: str, entities: Sequence[str],
              call_known: bool, network_known: bool) -> Optional[str]:
        """The intent of a short question about the call or network in focus, or None."""
        folded = fold(text)
        if not ranking or len(_WORDS.findall(folded)) > int(self.config["max_words"]):
            return None
        best = ranking[0].get("name")
        if "network" in entities or "city" in entities or "country" in entities:
            return None
        if (previous in CALL_INTENTS and call_known and best != previous and _CALL_FACET.search(folded)
                and best in (self.config.get("call_follow_ups") or ())):
            return previous
        if (previous == EXAMPLE_INTENT and POINTS_BACK.search(folded)
                and best in (self.config.get("example_follow_ups") or ())):
            return EXAMPLE_INTENT
        if (previous in NETWORK_FOCUS_INTENTS and network_known and _TIME_QUESTION.search(folded)
                and best in (self.config.get("network_time_follow_ups") or ())):
            return "ask_network_details"
        return None

    def process(self, messages: List[Message], tracker: Optional[DialogueStateTracker] = None) -> List[Message]:
        previous = previous_intent(tracker)
        if previous is None or tracker is None:
            return messages
        call_known = bool(tracker.get_slot("last_call"))
        network_known = network_in_conversation(tracker)
        for message in messages:
            ranking = list(message.get(INTENT_RANKING_KEY) or [])
            text = message.get(TEXT) or ""
            words = len(_WORDS.findall(fold(text)))
            kinds = [str(e.get("entity")) for e in message.get(ENTITIES) or [] if isinstance(e, dict)]
            target = self.focus(ranking, previous, text, kinds, call_known, network_known)
            if target is None and self.decide(ranking, previous, words, kinds, network_known):
                target = previous
            if target is None:
                continue
            replaced = ranking[0]["name"]
            best = max(float(self.config["confidence"]), float(ranking[0].get("confidence") or 0.0))
            chosen = {"name": target, "confidence": min(1.0, best)}
            others = [dict(r, confidence=min(float(r.get("confidence") or 0.0), best / 2))
                      for r in ranking if r.get("name") != target]
            message.set(INTENT, chosen, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [chosen, *others], add_to_output=True)
            message.set("follow_up", {"previous": previous, "replaced": replaced}, add_to_output=True)
        return messages
