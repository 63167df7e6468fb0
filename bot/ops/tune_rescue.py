"""Tune IntentRescue's thresholds on the readable blind sets (working, working2; never the others).

    .venv-rasa/bin/python -m bot.ops.tune_rescue [--model models/x.tar.gz]

Parses the first turn of every readable conversation once with the trained model (the classifier's
ranking, the knowledge-base entities and the answer search's scores), then replays the
rescue decision (bot/nlu/intent_rescue.decide) for a grid of settings. A turn counts as
right when the decided intent is one of those that can answer its kind (KIND_INTENTS: a
proxy for the end-to-end check of `make eval`), wrong when another intent answers, and
"rephrase" when the fallback would ask to rephrase. Prints the best settings; copy them
into config.yml, retrain, and confirm with `make eval` (both sets).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.ops.blind_eval import READABLE, SETS, load_set
from bot.ops.launcher import current_model

BROCHURE_BENEFITS = {
    "ask_benefits", "benefit_local_strategy", "benefit_existing_projects", "benefit_good_practices",
    "benefit_expertise", "skills_cross_department", "skills_local_actors", "skills_promote_territory",
}
KIND_INTENTS: Dict[str, set[str]] = {
    "myth_english": {"myth_english"},
    "myth_time": {"myth_time"},
    "myth_contacts": {"myth_contacts"},
    "myth_no_idea": {"myth_no_idea"},
    "myth_complexity": {"myth_complexity"},
    "myth_too_different": {"myth_useless_exchange"},
    "what_is_urbact": {"ask_what_is_urbact", "ask_funding_programme", "ask_history", "ask_countries"},
    "network_types": {"ask_network_types", "ask_network_duration"},
    "benefits": BROCHURE_BENEFITS,
    "local_group": {"ulg_what", "ulg_mobilise", "ulg_keep_alive", "ulg_elected_officials"},
    "action_plan": {"ask_action_plan", "ask_vigilance_points"},
    "experts": {"benefit_expertise"},
    "funding": {"ask_funding_programme", "ask_implementation_funding"},
    "how_to_join": {"ask_how_to_join", "ask_countries", "ask_open_calls", "ask_network_types", "ask_contact_point"},
    "french_examples": {"ask_field_example", "ask_city_networks"},
    "kb_city": {"ask_city_networks", "search_networks", "inform", "ask_field_example"},
    "kb_network": {"ask_network_details", "ask_network_partners"},
    "kb_lead": {"ask_network_lead"},
    "kb_theme": {"search_networks"},
    "kb_country": {"search_networks", "ask_city_networks", "ask_network_partners"},
    "kb_call": {"ask_last_call", "ask_open_calls"},
    "kb_contact": {"ask_contact_point"},
    "handoff": {"request_handoff"},
    "quiz": {"quiz_start"},
    "smalltalk": {"greet", "goodbye", "thank", "bot_challenge", "help"},
    "offtopic": {"out_of_scope"},
    "hostile": {"out_of_scope"},
}
GRID = {
    "weight": (0.2, 0.35, 0.5, 0.65),
    "min_search": (0.15, 0.2, 0.25, 0.3, 0.35, 0.4),
    "margin": (0.0, 0.02, 0.05, 0.1),
    "theme_fallback": (True, False),
    # the FallbackClassifier's threshold moves with it (config.yml)
    "diet_threshold": (0.35, 0.4, 0.45, 0.5),
}


def rescue_component(agent: Any) -> Any:
    from bot.nlu.intent_rescue import IntentRescue

    for node in agent.processor.graph_runner._instantiated_nodes.values():  # noqa: SLF001
        if isinstance(node._component, IntentRescue):  # noqa: SLF001
            return node._component  # noqa: SLF001
    raise RuntimeError("IntentRescue is not in this model's pipeline")


def observe(model: Path, texts: Sequence[str]) -> List[Tuple[List[Tuple[str, float]], List[Tuple[str, float]], Any]]:
    """(DIET ranking, search ranking, clues) for each text."""
    import structlog
    from rasa.core.agent import Agent

    from bot.nlu.answer_search import Span, normalise
    from bot.nlu.intent_rescue import clues_of
    from bot.start import prepare

    prepare()

    logging.getLogger("rasa").setLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))
    rescue = rescue_component(agent)
    rescue.config = {**rescue.config, "min_search": 99.0}  # observe DIET alone

    async def run() -> List[Tuple[List[Tuple[str, float]], List[Tuple[str, float]], Any]]:
        seen = []
        for text in texts:
            parsed = await agent.parse_message(text)
            diet = [(r["name"], float(r["confidence"])) for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
            spans = [Span(e["start"], e["end"], e["entity"]) for e in parsed.get("entities", []) if "start" in e]
            search = rescue.search.ranking(normalise(text, spans))
            seen.append((diet, search, clues_of(spans, text, rescue.config)))
        return seen

    return asyncio.run(run())


def outcome(
    diet: List[Tuple[str, float]], search: List[Tuple[str, float]], clues: Any, config: Dict[str, Any]
) -> Optional[str]:
    from bot.nlu.intent_rescue import decide, diet_is_sure, excluded_intents

    decision = decide(diet, search, config, clues)
    if decision is not None:
        return decision[0]
    if not diet or not diet_is_sure(diet, config, excluded_intents(config, clues)):
        return None  # fallback
    return diet[0][0]


def main(argv: Optional[Sequence[str]] = None) -> int:
    from bot.nlu.intent_rescue import IntentRescue

    parser = argparse.ArgumentParser(prog="python -m bot.ops.tune_rescue", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    turns = [(c.kind, c.turns[0].say) for name in READABLE for c in load_set(SETS[name])]
    seen = observe(args.model or current_model(), [text for _, text in turns])
    base = IntentRescue.get_default_config()
    results = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values))
        config = {**base, **setting}
        right = rephrase = 0
        for (kind, _), (diet, search, clues) in zip(turns, seen):
            decided = outcome(diet, search, clues, config)
            rephrase += decided is None
            right += decided in KIND_INTENTS[kind]
        results.append((right, -rephrase, sorted(setting.items())))
    results.sort(reverse=True)
    diet_only = sum(outcome(d, s, e, {**base, "min_search": 99.0}) in KIND_INTENTS[k] for (k, _), (d, s, e) in zip(turns, seen))
    print(f"{len(turns)} first turns; the classifier alone: {diet_only} right")
    for right, minus_rephrase, setting_items in results[:8]:
        settings = " ".join(f"{name}={value}" for name, value in setting_items)
        print(f"right {right}  rephrase {-minus_rephrase}  {settings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
