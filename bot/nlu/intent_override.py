"""The one way our rule components replace the classifier's intent (and say so)."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str, confidence: float, record_key: str) -> None:
    """Make ``name`` the intent at ``confidence`` or more; the others fall to half of it.

    The replaced intent is recorded in the parse data under ``record_key``.
    """
    intent = message.get(INTENT) or {}
    replaced = intent.get("name")
    chosen_confidence = min(1.0, max(confidence, float(intent.get("confidence") or 0.0)))
    chosen = {"name": name, "confidence": chosen_confidence}
    others = [dict(r, confidence=min(float(r.get("confidence") or 0.0), chosen_confidence / 2))
              for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *others], add_to_output=True)
    message.set(record_key, {"replaced": replaced}, add_to_output=True)
