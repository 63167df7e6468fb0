"""Blind end-to-end evaluation: conversations written by strangers, scored by what the answer says.

    make eval            # = .venv-rasa/bin/python -m bot.ops.blind_eval

The sets in tests/blind/ were written by helpers who read only the brochure and data/kb/*.csv
(never data/ nor tests/). Each conversation is sent turn by turn, as one new person, to the
running assistant (action server + Rasa, REST channel, started here on free ports). A turn
passes when, for every group of `expect`, at least one alternative appears in the reply
(case and accents folded) and no `forbid` string does.

Results in results/eval/:
- summary.json: turns, passed, answer rate and "asked to rephrase" rate, per set and per kind;
- misses-working.md, misses-working2.md, ..., misses-working4.md: every missed turn of the readable sets, with
  the reply and what the NLU understood (intent, confidence, the answer search's candidates).
The frozen set (tests/blind/frozen.yml) and the fresh sets (fresh.yml, written on 2026-11-29,
fresh2.yml, written on 2026-11-30 beside working2.yml, and fresh3.yml, written at the end of
the fifth round) are reported as numbers only:
nobody reads their messages or misses while tuning, and none of them enters the training data.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

import yaml

from bot.ops.launcher import ROOT, Assistant, current_model
from common.text import fold

SETS = {
    "working": ROOT / "tests/blind/working.yml",
    "frozen": ROOT / "tests/blind/frozen.yml",
    "fresh": ROOT / "tests/blind/fresh.yml",
    "working2": ROOT / "tests/blind/working2.yml",
    "fresh2": ROOT / "tests/blind/fresh2.yml",
    "working3": ROOT / "tests/blind/working3.yml",
    "working4": ROOT / "tests/blind/working4.yml",
    "fresh3": ROOT / "tests/blind/fresh3.yml",
}
# The sets whose misses the developers may read; the others are reported as numbers only.
READABLE = ("working", "working2", "working3", "working4")
OUT = ROOT / "results" / "eval"
REPHRASE_MARK = "reformuler"  # the rephrase answer (and the "not my question" one) say it
OFF_TOPIC_KINDS = frozenset({"offtopic", "off_topic", "hostile", "gibberish"})
WORKERS = 4


@dataclass
class Turn:
    say: str
    expect: List[List[str]]
    forbid: List[str]
    followup: bool = False


@dataclass
class Conversation:
    id: str
    kind: str
    turns: List[Turn]


@dataclass
class TurnResult:
    conversation: str
    kind: str
    index: int
    say: str
    reply: str
    passed: bool
    missing: List[List[str]] = field(default_factory=list)
    forbidden: List[str] = field(default_factory=list)
    followup: bool = False


def load_set(path: Path) -> List[Conversation]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    conversations = []
    for raw in data["conversations"]:
        turns = [
            Turn(
                say=str(t["say"]),
                expect=[[str(a) for a in group] for group in t.get("expect") or []],
                forbid=[str(f) for f in t.get("forbid") or []],
                followup=bool(t.get("followup")) or index > 0,  # every turn after the first leans on it
            )
            for index, t in enumerate(raw["turns"])
        ]
        conversations.append(Conversation(str(raw["id"]), str(raw.get("kind", "?")), turns))
    return conversations


def check(reply: str, turn: Turn) -> tuple[bool, List[List[str]], List[str]]:
    folded = fold(reply)
    missing = [g for g in turn.expect if not any(fold(a) in folded for a in g)]
    forbidden = [f for f in turn.forbid if fold(f) in folded]
    return not missing and not forbidden, missing, forbidden


def send(url: str, sender: str, text: str) -> str:
    body = json.dumps({"sender": sender, "message": text}).encode("utf-8")
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        messages = json.loads(answer.read().decode("utf-8"))
    return "\n".join(m.get("text", "") for m in messages if isinstance(m, dict) and m.get("text"))


def run_conversation(url: str, conversation: Conversation, run_id: str) -> List[TurnResult]:
    sender = f"eval-{run_id}-{conversation.id}"
    results = []
    for index, turn in enumerate(conversation.turns):
        try:
            reply = send(url, sender, turn.say)
        except Exception as error:  # a failed request is a missed turn, reported as such
            reply = f"[erreur : {type(error).__name__}]"
        passed, missing, forbidden = check(reply, turn)
        results.append(
            TurnResult(conversation.id, conversation.kind, index, turn.say, reply, passed, missing,
                       forbidden, turn.followup)
        )
    return results


def summarise(results: Sequence[TurnResult]) -> Dict[str, Any]:
    by_kind: Dict[str, Dict[str, int]] = {}
    for r in results:
        entry = by_kind.setdefault(r.kind, {"turns": 0, "passed": 0})
        entry["turns"] += 1
        entry["passed"] += int(r.passed)
    turns = len(results)
    passed = sum(r.passed for r in results)
    rephrase = sum(REPHRASE_MARK in fold(r.reply) for r in results)
    on_topic = [r for r in results if r.kind not in OFF_TOPIC_KINDS]
    rephrase_on_topic = sum(REPHRASE_MARK in fold(r.reply) for r in on_topic)
    followups = [r for r in results if r.followup]
    conversations: Dict[str, bool] = {}
    for r in results:
        conversations[r.conversation] = conversations.get(r.conversation, True) and r.passed
    return {
        "conversations": len(conversations),
        "conversations_right": sum(conversations.values()),
        "conversation_rate": round(sum(conversations.values()) / len(conversations), 3) if conversations else 0.0,
        "turns": turns,
        "passed": passed,
        "answer_rate": round(passed / turns, 3) if turns else 0.0,
        "asked_to_rephrase": rephrase,
        "rephrase_rate_on_topic": round(rephrase_on_topic / len(on_topic), 3) if on_topic else 0.0,
        "followups": {"turns": len(followups), "passed": sum(r.passed for r in followups)},
        "by_kind": dict(sorted(by_kind.items())),
    }


def nlu_views(model: Path, texts: Sequence[str]) -> Dict[str, Dict[str, Any]]:
    """What the NLU understood of each text (for the miss report of the working set)."""
    import asyncio
    import logging

    import structlog
    from rasa.core.agent import Agent

    from bot.start import prepare

    prepare()  # our fixes of Rasa, as in every Rasa process of the project
    logging.getLogger("rasa").setLevel(logging.WARNING)
    # Rasa's structured log would print every parsed message at debug level.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))

    async def parse_all() -> Dict[str, Dict[str, Any]]:
        views = {}
        for text in texts:
            parsed = await agent.parse_message(text)
            views[text] = {
                "intent": (parsed.get("intent") or {}).get("name"),
                "confidence": round(float((parsed.get("intent") or {}).get("confidence") or 0), 3),
                "entities": [(e.get("entity"), e.get("value")) for e in parsed.get("entities", [])],
                "answer_search": parsed.get("answer_search"),
            }
        return views

    return asyncio.run(parse_all())


def write_misses(path: Path, name: str, results: Sequence[TurnResult], views: Dict[str, Dict[str, Any]]) -> None:
    lines = [f"# Missed turns of the {name} set", ""]
    for r in results:
        if r.passed:
            continue
        view = views.get(r.say, {})
        lines += [
            f"## {r.conversation} turn {r.index + 1} ({r.kind}{', follow-up' if r.followup else ''})",
            f"- said: {r.say}",
            f"- understood: {view.get('intent')} ({view.get('confidence')}), entities {view.get('entities')}",
            f"- answer search: {json.dumps(view.get('answer_search'), ensure_ascii=False)}",
            f"- missing: {r.missing}" + (f"; forbidden present: {r.forbidden}" if r.forbidden else ""),
            "- reply: " + r.reply.replace("\n", " / ")[:600],
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def evaluate(url: str, conversations: Sequence[Conversation]) -> List[TurnResult]:
    run_id = uuid.uuid4().hex[:8]
    with ThreadPoolExecutor(WORKERS) as pool:
        batches = list(pool.map(lambda c: run_conversation(url, c, run_id), conversations))
    return [r for batch in batches for r in batch]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.ops.blind_eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="*", default=list(SETS), choices=list(SETS))
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--min-rate", action="append", default=[], metavar="[SET=]RATE",
        help="fail (exit 1) when a set's share of conversations answered right is below RATE "
        "(every set, or only SET; repeatable, the named value wins)",
    )
    args = parser.parse_args(argv)

    model = args.model or current_model()
    sets = {name: load_set(SETS[name]) for name in args.sets}
    args.out.mkdir(parents=True, exist_ok=True)
    summary: Dict[str, Any] = {"model": model.name}
    results: Dict[str, List[TurnResult]] = {}
    with Assistant.running(model=model) as assistant:
        for name, conversations in sets.items():
            results[name] = evaluate(assistant.rest_url, conversations)
            summary[name] = summarise(results[name])
    for name in READABLE:
        if name in results:
            missed = [r.say for r in results[name] if not r.passed]
            write_misses(args.out / f"misses-{name}.md", name, results[name], nlu_views(model, missed))
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in sets:
        s = summary[name]
        print(
            f"{name}: {s['conversations_right']}/{s['conversations']} conversations right "
            f"({s['conversation_rate']:.1%}); {s['passed']}/{s['turns']} turns ({s['answer_rate']:.1%}), "
            f"asked to rephrase {s['asked_to_rephrase']} times ({s['rephrase_rate_on_topic']:.1%} of on-topic turns), follow-ups "
            f"{s['followups']['passed']}/{s['followups']['turns']}"
        )
    print(f"details: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    minimums = min_rates(args.min_rate, sets)
    low = [name for name, rate in minimums.items() if summary[name]["conversation_rate"] < rate]
    if low:
        print(
            "FAILED: answer rate below the minimum for "
            + ", ".join(f"{name} ({minimums[name]:.0%})" for name in low),
            file=sys.stderr,
        )
        return 1
    return 0


def min_rates(specs: Sequence[str], sets: Iterable[str]) -> Dict[str, float]:
    """`0.7` applies to every set, `fresh=0.6` to one; the named value wins."""
    everywhere = [float(spec) for spec in specs if "=" not in spec]
    named = dict(spec.split("=", 1) for spec in specs if "=" in spec)
    unknown = set(named) - set(SETS)
    if unknown:
        raise SystemExit(f"--min-rate: unknown set {', '.join(sorted(unknown))}")
    names = list(sets)
    rates = {name: everywhere[-1] for name in names} if everywhere else {}
    rates.update({name: float(rate) for name, rate in named.items() if name in names})
    return rates


if __name__ == "__main__":
    sys.exit(main())
