"""Micro-benchmark of the database actions: p50 / p95 latency per action.

Each action is called N times (default 1,000) with a realistic action-server payload:
- through a running action server:  --url http://127.0.0.1:5055/webhook  (POST, as Rasa does)
- or, without --url, in-process through rasa_sdk's ActionExecutor (same code path as the
  server minus HTTP), on the database named by --database-url / DATABASE_URL.

Runs with the action-server environment (never imports rasa):
    .venv-actions/bin/python -m actions.ops.bench_actions [--url URL] [-n 1000] [--output FILE]
Writes JSON (default results/bench_actions.json) and prints a table. Exit code 1 if any
call failed (HTTP error, or the "database unavailable" apology).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional, Sequence

from common.percentiles import percentile

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = REPO_ROOT / "results" / "bench_actions.json"
LAST_SEARCH = '{"a":"search","f":{"theme":"jeunesse"},"o":0}'

# (action, intent, entities, slots, text): one realistic turn per action.
CASES: Sequence[tuple[str, str, list[tuple[str, Any]], dict[str, Any], str]] = (
    ("action_search_networks", "search_networks", [("programme", "URBACT IV"), ("country", "française")], {},
     "Quels réseaux URBACT IV comptent une ville française ?"),
    ("action_network_details", "ask_network_details", [("network", "BoostInno")], {}, "Parlez-moi de BoostInno"),
    ("action_network_lead", "ask_network_lead", [("network", "Eat4Climate")], {},
     "Qui est chef de file d'Eat4Climate ?"),
    ("action_network_partners", "ask_network_partners", [("network", "RetaiLink")], {},
     "Quelles villes participent à RetaiLink ?"),
    ("action_city_networks", "ask_city_networks", [("city", "mouans sartou")], {},
     "Dans quels réseaux trouve-t-on mouans sartou ?"),
    ("action_inform", "inform", [("city", "Lyon")], {"last_query": LAST_SEARCH, "theme": "jeunesse"},
     "et pour Lyon ?"),
    ("action_open_calls", "ask_open_calls", [], {}, "Un appel est-il ouvert ?"),
    ("action_last_call", "ask_last_call", [], {}, "Quand a fermé le dernier appel ?"),
    ("action_implementation_funding", "ask_implementation_funding", [], {},
     "Comment financer la mise en œuvre de notre plan d'action ?"),
    ("action_contact_point", "ask_contact_point", [], {}, "Qui contacter en France ?"),
)
SLOTS = ("city", "network", "theme", "country", "network_type", "programme", "year", "last_query",
         "results_offset")


def payload(action: str, intent: str, entities: list[tuple[str, Any]], slots: dict[str, Any], text: str) -> dict:
    """The JSON body Rasa POSTs to the action server's /webhook."""
    all_slots = {name: None for name in SLOTS}
    all_slots.update({e: v for e, v in entities})
    all_slots.update(slots)
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.98},
        "intent_ranking": [{"name": intent, "confidence": 0.98}],
        "entities": [
            {"entity": e, "value": v, "start": 0, "end": len(str(v)), "extractor": "DIETClassifier",
             "confidence_entity": 0.97}
            for e, v in entities
        ],
    }
    events = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "session_started", "timestamp": 1.0},
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
        {"event": "user", "text": text, "parse_data": latest, "timestamp": 2.0},
    ]
    return {
        "next_action": action,
        "sender_id": "bench",
        "version": "3.6.21",
        "tracker": {
            "sender_id": "bench",
            "slots": all_slots,
            "latest_message": latest,
            "latest_event_time": 2.0,
            "followup_action": None,
            "paused": False,
            "events": events,
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "domain": {"slots": {name: {"type": "text"} for name in SLOTS}, "responses": {}},
    }


def is_failure(response: Optional[dict]) -> bool:
    from actions.kb.action import DB_UNAVAILABLE_TEXT, UNEXPECTED_ERROR_TEXT

    if not response:
        return True
    texts = [r.get("text") for r in response.get("responses", [])]
    return not texts or any(t in (DB_UNAVAILABLE_TEXT, UNEXPECTED_ERROR_TEXT) for t in texts)


async def measure(call: Callable[[dict], Awaitable[Optional[dict]]], body: dict, n: int, warmup: int) -> dict:
    errors = 0
    for _ in range(warmup):
        await call(body)
    timings: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        response = await call(body)
        timings.append((time.perf_counter() - started) * 1000)
        errors += is_failure(response)
    return {
        "calls": n,
        "errors": errors,
        "p50_ms": round(percentile(timings, 50), 3),
        "p95_ms": round(percentile(timings, 95), 3),
        "mean_ms": round(statistics.fmean(timings), 3),
        "max_ms": round(max(timings), 3),
    }


async def run(url: Optional[str], n: int, warmup: int) -> dict[str, dict]:
    results: dict[str, dict] = {}
    if url:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=10)
        # The action server refuses calls without the shared secret (actions/ops/action_server.py).
        headers = {"Authorization": f"Bearer {os.environ.get('ACTION_SERVER_TOKEN', '')}"}
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:

            async def call(body: dict) -> Optional[dict]:
                async with session.post(url, json=body) as resp:
                    if resp.status != 200:
                        return None
                    return await resp.json()

            for case in CASES:
                results[case[0]] = await measure(call, payload(*case), n, warmup)
        return results

    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")

    async def call_in_process(body: dict) -> Optional[dict]:
        return await executor.run(body)

    for case in CASES:
        results[case[0]] = await measure(call_in_process, payload(*case), n, warmup)
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.ops.bench_actions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="action server webhook, e.g. http://127.0.0.1:5055/webhook")
    parser.add_argument("-n", "--iterations", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--database-url", help="in-process mode: database to read (default: DATABASE_URL)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from actions.db.engine import database_url, safe_url

    results = asyncio.run(run(args.url, args.iterations, args.warmup))
    report = {
        "mode": "http" if args.url else "in-process",
        "target": args.url or safe_url(database_url()),
        "iterations": args.iterations,
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "actions": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    width = max(len(name) for name in results)
    print(f"{report['mode']} on {report['target']}, {args.iterations} calls per action")
    print(f"{'action'.ljust(width)}  p50 ms   p95 ms  errors")
    for name, r in results.items():
        print(f"{name.ljust(width)}  {r['p50_ms']:7.2f}  {r['p95_ms']:7.2f}  {r['errors']:6d}")
    print(f"written to {args.output}")
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
