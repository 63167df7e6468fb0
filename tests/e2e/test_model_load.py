"""The quick DIET load (bot/nlu/diet.py) gives exactly the stock load's predictions.

Loads the trained model twice in this process: once as configured (weights built by one
eager step), once with Rasa's own DIET model class (weights built by tracing the training
graph), and compares intents, confidences and entities on varied messages.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, List, Tuple

import pytest
from rasa.core.agent import Agent, load_agent
from rasa.nlu.classifiers.diet_classifier import DIET

from bot.nlu.diet import FrenchDIETClassifier, QuickLoadDIET

MESSAGES = [
    "est-ce que notre équipe doit être bilingue ?",
    "c est quoi urbact",
    "Quels réseaux travaillent sur l'alimentation ?",
    "Qui est le chef de file du réseau BioCanteens ?",
    "À quels réseaux participe Nantes ?",
    "on n'a pas le temps pour ça",
    "quel temps fait-il à Lyon ?",
    "2023",
]


def parse_all(agent: Agent) -> List[Tuple[Any, ...]]:
    async def parse() -> List[Tuple[Any, ...]]:
        results = []
        for text in MESSAGES:
            data = await agent.parse_message(text)
            results.append(
                (
                    data["intent"]["name"],
                    round(data["intent"]["confidence"], 4),
                    [(e["entity"], e["value"], e["start"], e["end"]) for e in data["entities"]],
                )
            )
        return results

    return asyncio.run(parse())


def test_quick_load_predicts_like_the_stock_load(
    monkeypatch: pytest.MonkeyPatch, trained_model: Path
) -> None:
    model = str(trained_model)
    assert FrenchDIETClassifier.model_class() is QuickLoadDIET
    quick = parse_all(asyncio.run(load_agent(model_path=model)))

    monkeypatch.setattr(FrenchDIETClassifier, "model_class", staticmethod(lambda: DIET))
    stock = parse_all(asyncio.run(load_agent(model_path=model)))

    assert quick == stock
    assert quick[0][0] == "myth_english"
