"""`make bench`: latency, throughput, start-up, memory and training time of the assistant.

Writes results/bench.json and results/bench.md. Every number comes from a real run on this
machine: the assistant is started as it is by `make run` (action server + `rasa run`), and
requests go over HTTP to the REST channel, as a website back end would send them.

Also `make insights` over a recorded store of 100,000 synthetic events (Rasa's schema, SQLite),
timed as a whole command (process start included), and the per-turn cost of recording the
conversations (conversation_store_costs: in-memory, our recording store, Rasa's SQL tracker
store and Rasa's SQL event broker, on SQLite files in var/).

And the scale benchmark (bot/ops/bench_scale.py): the production topology through nginx with
1, 2 and 3 Rasa instances at 20 and 50 users, CPU per part, the 2-vs-1 ratio.

Options: --quick (fewer requests, no full training, scale with 1 and 2 instances at 20 users),
--skip-training, --skip-production, --skip-scale.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import aiohttp

from bot.ops.launcher import ROOT, Assistant, current_model, free_port
from common.percentiles import percentile

# A mix of brochure, myth and database questions, as users type them.
MIX: Sequence[str] = (
    "c'est quoi URBACT ?",
    "est-ce que notre équipe doit être bilingue ?",
    "Quels réseaux travaillent sur la jeunesse ?",
    "on n'a pas le temps pour ce genre de projet",
    "qu'est ce qu'un groupe de soutien local",
    "Dans quels réseaux trouve-t-on Mouans-Sartoux ?",
    "combien de temps dure un reseau ?",
    "Un appel est-il ouvert ?",
    "qu'a fait Nantes avec URBACT ?",
    "Qui est chef de file d'Eat4Climate ?",
)
FIRST_ANSWER_PROBE = ("est-ce que notre équipe doit être bilingue ?", ("bilingue", "anglais"))
TARGETS = {
    "latency_1_user_p50_ms": 40,
    "latency_1_user_p95_ms": 100,
    "throughput_20_users_msg_per_s": 40,
    "ready_after_start_s": 20,
    "rasa_peak_rss_mb": 1200,
    "actions_peak_rss_mb": 150,
    "full_training_s": 180,
    "insights_100k_events_s": 10,
}
INSIGHTS_EVENTS = 100_000


def summary_ms(seconds: Sequence[float]) -> Dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
    }


class PeakRss:
    """Samples VmHWM (the kernel's own peak-RSS counter) of a process until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _read(self) -> int:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_kb = max(self.peak_kb, self._read())

    def stop(self) -> float:
        self.peak_kb = max(self.peak_kb, self._read())
        self._stop.set()
        self._thread.join()
        return round(self.peak_kb / 1024, 1)


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> List[Dict[str, Any]]:
    async with session.post(url, json={"sender": sender, "message": text}) as answer:
        answer.raise_for_status()
        return await answer.json()


async def first_correct_answer(url: str, started_at: float, timeout: float = 180) -> float:
    question, expected = FIRST_ANSWER_PROBE
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while time.monotonic() - started_at < timeout:
            try:
                replies = await send(session, url, "bench-ready", question)
                text = " ".join(str(r.get("text", "")) for r in replies).lower()
                if any(word in text for word in expected):
                    return time.monotonic() - started_at
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("no correct answer before the timeout")


async def run_users(url: str, users: int, per_user: int) -> Dict[str, Any]:
    latencies: List[float] = []
    errors = 0
    empty = 0

    async def user(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors, empty
        for turn in range(per_user):
            text = MIX[(index + turn) % len(MIX)]
            start = time.perf_counter()
            try:
                # a conversation is one pass over the mix (10 turns), as a real visitor's
                conversation = (index + turn) // len(MIX)
                replies = await send(session, url, f"bench-{users}-{index}-{conversation}", text)
                if not replies:
                    empty += 1
            except (aiohttp.ClientError, asyncio.TimeoutError):
                errors += 1
                continue
            latencies.append(time.perf_counter() - start)

    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        # warm-up: one pass over the mix, not measured
        for text in MIX:
            await send(session, url, f"bench-warmup-{users}", text)
        start = time.perf_counter()
        await asyncio.gather(*(user(i, session) for i in range(users)))
        elapsed = time.perf_counter() - start
    result = summary_ms(latencies)
    result.update(
        users=users,
        messages=users * per_user,
        errors=errors,
        empty_replies=empty,
        seconds=round(elapsed, 2),
        throughput_msg_per_s=round(len(latencies) / elapsed, 1),
    )
    return result


class CpuSteal:
    """Share of CPU time the hypervisor gave to other machines (the `st` of top) while measuring.

    On a shared VM, a high steal makes every timing worse without any change in the code:
    the report prints it next to the numbers so that runs can be compared honestly.
    """

    def __init__(self) -> None:
        self.start = self._read()

    @staticmethod
    def _read() -> List[int]:
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            return [int(x) for x in fields]
        except (OSError, ValueError, IndexError):
            return []

    def percent(self) -> Optional[float]:
        end = self._read()
        if len(end) < 8 or len(self.start) < 8:
            return None
        delta = [b - a for a, b in zip(self.start, end)]
        total = sum(delta[:8])  # user nice system idle iowait irq softirq steal
        return round(100 * delta[7] / total, 1) if total else None


def timed(command: Sequence[str], env: Optional[Dict[str, str]] = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, env=env, stdout=subprocess.DEVNULL)
    return round(time.perf_counter() - start, 2)


def full_training_seconds() -> float:
    out = Path(tempfile.mkdtemp(prefix="urbact-bench-train-"))
    try:
        return timed([
            str(ROOT / ".venv-rasa/bin/rasa"), "train", "--force", "--config", "config.yml",
            "--domain", "domain.yml", "--data", "data/nlu", "data/rules", "data/stories",
            "--out", str(out),
        ])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def make_run_start_seconds() -> float:
    """`make run` typed in a shell when nothing changed: seconds until the first correct answer.

    Includes what a newcomer waits for: make's checks (installed, data loaded, model up to
    date), the start of both servers and the first answer. Stopped with Ctrl-C (SIGINT).
    """
    rasa_port, actions_port = free_port(), free_port()
    env = dict(os.environ, RASA_PORT=str(rasa_port), ACTIONS_PORT=str(actions_port))
    env.pop("ACTION_SERVER_URL", None)  # derived from ACTIONS_PORT by the Makefile
    env.pop("MAKEFLAGS", None)
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
        return round(asyncio.run(first_correct_answer(url, started)), 2)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def action_latencies(
    actions_url: Optional[str], calls: int, database_url: Optional[str] = None, secret: Optional[str] = None
) -> Dict[str, Any]:
    out = Path(tempfile.mkstemp(prefix="urbact-bench-actions-", suffix=".json")[1])
    command = [str(ROOT / ".venv-actions/bin/python"), "-m", "actions.ops.bench_actions", "--iterations", str(calls),
               "--output", str(out)]
    if actions_url:
        command += ["--url", actions_url]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if database_url:
        env["DATABASE_URL"] = database_url
    if secret:
        env["ACTION_SERVER_TOKEN"] = secret
    subprocess.run(command, cwd=ROOT, check=True, env=env, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text(encoding="utf-8"))


def measure_profile(model: Path, args: argparse.Namespace, endpoints: Path, env: Dict[str, str]) -> Dict[str, Any]:
    steal = CpuSteal()
    assistant = Assistant.launch(model=model, endpoints=endpoints, extra_env=env)
    rasa_rss, actions_rss = PeakRss(assistant.rasa.pid), PeakRss(assistant.actions.pid)
    try:
        ready = asyncio.run(first_correct_answer(assistant.rest_url, assistant.started_at))
        one = asyncio.run(run_users(assistant.rest_url, 1, args.single_messages))
        many = asyncio.run(run_users(assistant.rest_url, 20, args.concurrent_messages))
        actions = action_latencies(
            assistant.actions_url, args.action_calls, secret=assistant.env.get("ACTION_SERVER_TOKEN")
        )
    except Exception:
        print(assistant.logs(), file=sys.stderr)
        raise
    finally:
        assistant.stop()
    return {
        "first_correct_answer_s": round(ready, 2),
        "one_user": one,
        "twenty_users": many,
        "rasa_peak_rss_mb": rasa_rss.stop(),
        "actions_peak_rss_mb": actions_rss.stop(),
        "action_server": actions,
        "cpu_steal_percent": steal.percent(),
    }


PRODUCTION_DATABASE = "urbact_bench"
TRACKER_DATABASE = "urbact_tracker_bench"


def prepare_production_database() -> str:
    """Create (if needed) and load the PostgreSQL knowledge base used by the production profile."""
    def psql(*args: str) -> str:
        return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tA", *args],
                              check=True, capture_output=True, text=True).stdout.strip()

    for name in (PRODUCTION_DATABASE, TRACKER_DATABASE):
        if psql("-c", f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
            psql("-c", f"CREATE DATABASE {name}")
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PRODUCTION_DATABASE}"
    subprocess.run(
        [str(ROOT / ".venv-actions/bin/python"), "-m", "actions.ops.import_data", "--database-url", url],
        cwd=ROOT, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL,
    )
    return url


def production_env() -> Dict[str, str]:
    """Tracker store in PostgreSQL, lock store in Redis, knowledge base in PostgreSQL."""
    return {
        "TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": "5432", "TRACKER_DB_NAME": TRACKER_DATABASE,
        "TRACKER_DB_USER": "postgres", "TRACKER_DB_PASSWORD": "",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": "1",
        "DATABASE_URL": prepare_production_database(),
    }


def insights_seconds(events: int = INSIGHTS_EVENTS) -> Dict[str, Any]:
    """`python -m bot.ops.insights` over a week of `events` synthetic events written with Rasa's
    schema into a SQLite store of its own: the command's wall time, process start included."""
    from datetime import datetime, timedelta, timezone

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from bot.insights.store import period_bounds, prepare_sqlite_file
    from bot.insights.synthetic import large_store_rows, write_rows

    until = datetime.now(timezone.utc).date()
    since = until - timedelta(days=6)
    with tempfile.TemporaryDirectory(prefix="urbact-insights-bench-") as folder:
        path = Path(folder) / "conversations.db"
        prepare_sqlite_file(path)
        SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))  # Rasa creates its table
        url = f"sqlite:///{path}"
        written = write_rows(url, large_store_rows(events, period_bounds(since, until)[0], days=7))
        seconds = timed([sys.executable, "-m", "bot.ops.insights", "--since", since.isoformat(),
                         "--until", until.isoformat(), "--conversations-url", url, "--out", str(Path(folder) / "report")])
    return {"events": written, "seconds": round(seconds, 2)}


async def _timed_turn(store: Any, sender: str, turn_number: int) -> float:
    from bot.insights.synthetic import TURNS, turn_events

    started = time.perf_counter()
    tracker = await store.get_or_create_tracker(sender)
    for event in turn_events(TURNS[turn_number % len(TURNS)], time.time()):
        tracker.update(event)
    await store.save(tracker)
    return time.perf_counter() - started


async def _store_turns(stores: Dict[str, Any], senders: int, turns: int) -> Dict[str, List[float]]:
    """Each store gets the same conversations (10 turns already), then the same turns in turn,
    so the machine's load falls on all of them alike."""
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.insights.synthetic import TURNS, conversation_events

    for store in stores.values():
        for number in range(senders):
            history = conversation_events([TURNS[(number + i) % len(TURNS)] for i in range(10)], time.time() - 3600)
            await store.save(DialogueStateTracker.from_events(f"s{number}", history))
    times: Dict[str, List[float]] = {name: [] for name in stores}
    for turn_number in range(turns):
        for number in range(senders):
            for name, store in stores.items():
                times[name].append(await _timed_turn(store, f"s{number}", turn_number + number))
    return times


def conversation_store_costs(senders: int = 20, turns: int = 25) -> Dict[str, Any]:
    """Per-turn cost (retrieve + save of one turn, as Rasa's processor does, behind Rasa's
    FailSafe and Awaitable wrappers) of each way to record conversations, and its extra
    over the in-memory store (p50 of the paired differences), in ms."""
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import (
        AwaitableTrackerStore,
        FailSafeTrackerStore,
        InMemoryTrackerStore,
        SQLTrackerStore,
    )
    from rasa.shared.core.domain import Domain

    from bot import fail_closed
    from bot.insights.recording import RecordingTrackerStore
    from bot.insights.store import prepare_sqlite_file
    from bot.start import prepare

    prepare()
    fail_closed.apply()
    domain = Domain.load(str(ROOT / "domain.yml"))
    (ROOT / "var").mkdir(exist_ok=True)  # the disk `make run` records on
    with tempfile.TemporaryDirectory(prefix="urbact-store-bench-", dir=ROOT / "var") as folder:
        for name in ("recording.db", "sql.db"):
            prepare_sqlite_file(Path(folder) / name)
        stores = {
            "in_memory": InMemoryTrackerStore(domain),
            "recording_store_sqlite": RecordingTrackerStore(domain, dialect="sqlite", db=f"{folder}/recording.db"),
            "rasa_sql_tracker_store_sqlite": SQLTrackerStore(domain, dialect="sqlite", db=f"{folder}/sql.db"),
            "in_memory_and_sql_event_broker_sqlite": InMemoryTrackerStore(
                domain, event_broker=SQLEventBroker(db=f"{folder}/broker.db")),
        }
        wrapped = {name: AwaitableTrackerStore(FailSafeTrackerStore(store)) for name, store in stores.items()}
        times = asyncio.run(_store_turns(wrapped, senders, turns))
    base = times["in_memory"]
    return {name: {**summary_ms(values),
                   "extra_p50_ms": round(statistics.median(a - b for a, b in zip(values, base)) * 1000, 2)}
            for name, values in times.items()}


def markdown(results: Dict[str, Any]) -> str:
    embedded = results["embedded"]
    rows = [
        ("1 user p50 (ms)", embedded["one_user"]["p50_ms"], "≤ 40"),
        ("1 user p95 (ms)", embedded["one_user"]["p95_ms"], "≤ 100"),
        ("1 user p99 (ms)", embedded["one_user"]["p99_ms"], "—"),
        ("20 users p50 / p95 / p99 (ms)",
         f'{embedded["twenty_users"]["p50_ms"]} / {embedded["twenty_users"]["p95_ms"]} / {embedded["twenty_users"]["p99_ms"]}', "—"),
        ("20 users throughput (msg/s)", embedded["twenty_users"]["throughput_msg_per_s"], "≥ 40"),
        ("20 users errors", embedded["twenty_users"]["errors"], "0"),
        ("start → first correct answer (s)", embedded["first_correct_answer_s"], "≤ 20"),
        ("Rasa peak RSS (MB)", embedded["rasa_peak_rss_mb"], "≤ 1200"),
        ("action server peak RSS (MB)", embedded["actions_peak_rss_mb"], "≤ 150"),
        ("full training (s)", results.get("full_training_s", "not run"), "≤ 180"),
        ("`make model` when nothing changed (s)", results["unchanged_model_check_s"], "no retraining"),
        ("`make run` when nothing changed → first correct answer (s)", results["make_run_start_s"], "≤ 20"),
        (f"`make insights` over {results['insights']['events']:,} recorded events (s)", results["insights"]["seconds"], "< 10"),
        ("recording a turn (SQLite), extra p50 over in-memory (ms)",
         results["conversation_store_per_turn"]["recording_store_sqlite"]["extra_p50_ms"], "≤ +5"),
    ]
    lines = ["| measure | measured | target |", "| --- | --- | --- |"]
    lines += [f"| {name} | {value} | {target} |" for name, value, target in rows]
    lines += ["", f"CPU steal (time the VM's host gave to other machines) during the measures: "
              f"{embedded.get('cpu_steal_percent')} %; during the training: "
              f"{results.get('full_training_cpu_steal_percent', '—')} %."]
    lines += ["", "Action server, per database action (in-process HTTP calls):", "",
              "| action | p50 (ms) | p95 (ms) |", "| --- | --- | --- |"]
    for name, values in embedded["action_server"].get("actions", {}).items():
        lines.append(f"| {name} | {values['p50_ms']} | {values['p95_ms']} |")
    if "production" in results:
        prod = results["production"]
        lines += ["", "Production profile (PostgreSQL tracker and data, Redis lock store):", "",
                  "| measure | measured |", "| --- | --- |",
                  f"| 1 user p50 / p95 (ms) | {prod['one_user']['p50_ms']} / {prod['one_user']['p95_ms']} |",
                  f"| 20 users throughput (msg/s), errors | {prod['twenty_users']['throughput_msg_per_s']}, {prod['twenty_users']['errors']} |"]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-production", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "bench.json")
    args = parser.parse_args(argv)
    args.single_messages = 60 if args.quick else 300
    args.concurrent_messages = 10 if args.quick else 30
    args.action_calls = 100 if args.quick else 1000

    results: Dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "targets": TARGETS,
    }
    model_script = [str(ROOT / "bot/ops/model.sh")]
    results["unchanged_model_check_s"] = timed(model_script)
    results["make_run_start_s"] = make_run_start_seconds()
    results["insights"] = insights_seconds()
    results["conversation_store_per_turn"] = conversation_store_costs()
    model = current_model()
    results["embedded"] = measure_profile(model, args, ROOT / "endpoints.yml", {})
    if not args.skip_production:
        results["production"] = measure_profile(model, args, ROOT / "endpoints.production.yml", production_env())
    if not args.skip_scale:
        from bot.ops import bench_scale  # imports this module: loaded only when used

        results["scale"] = (bench_scale.run(model, (1, 2), (20,), 10) if args.quick else bench_scale.run(model))
    if not (args.skip_training or args.quick):
        steal = CpuSteal()
        results["full_training_s"] = full_training_seconds()
        results["full_training_cpu_steal_percent"] = steal.percent()

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    table = markdown(results)
    if "scale" in results:
        from bot.ops import bench_scale

        table += "\n" + bench_scale.markdown(results["scale"])
    args.output.with_suffix(".md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
