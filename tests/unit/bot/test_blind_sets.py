"""The blind evaluation sets are well formed and none of their messages is training data."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from bot.ops.blind_eval import SETS, Turn, check, load_set, min_rates

ROOT = Path(__file__).resolve().parents[3]


def key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"[^a-z0-9]+", " ", "".join(c for c in folded if not unicodedata.combining(c))).strip()


def training_sentences() -> set[str]:
    sentences = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" in block:
                for line in str(block.get("examples") or "").splitlines():
                    line = re.sub(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}", r"\1\2", line.strip()[2:])
                    sentences.add(key(line))
    return sentences


@pytest.mark.parametrize("name", list(SETS))
def test_sets_load_and_every_turn_checks_something(name: str) -> None:
    conversations = load_set(SETS[name])
    assert sum(len(c.turns) for c in conversations) >= 130
    assert len({c.id for c in conversations}) == len(conversations)
    for conversation in conversations:
        for turn in conversation.turns:
            assert turn.say.strip() and turn.expect and all(turn.expect), conversation.id


@pytest.mark.parametrize("name", list(SETS))
def test_no_blind_message_is_in_the_training_data(name: str) -> None:
    trained = training_sentences()
    # Very short messages ("bonjour", "intox") are everyday words, not copies.
    leaked = [c.id for c in load_set(SETS[name]) for t in c.turns
              if len(key(t.say).split()) >= 4 and key(t.say) in trained]
    assert not leaked, f"blind messages copied into data/nlu (conversation ids): {leaked}"


def test_a_turn_passes_only_with_every_group_and_no_forbidden_string() -> None:
    turn = Turn(say="x", expect=[["traduct", "interpret"], ["francais"]], forbid=["reformuler"])
    assert check("Des interprètes et le FRANÇAIS", turn)[0]
    assert not check("Des interprètes", turn)[0]
    assert not check("Pourriez-vous reformuler ? interprète français", turn)[0]


def test_minimum_rates_apply_to_every_set_or_to_one() -> None:
    assert min_rates(["0.7", "fresh=0.6"], ["working", "fresh"]) == {"working": 0.7, "fresh": 0.6}
    assert min_rates(["fresh=0.6"], ["working", "fresh"]) == {"fresh": 0.6}
    assert min_rates([], ["working"]) == {}
    with pytest.raises(SystemExit):
        min_rates(["nosuchset=0.5"], ["working"])
