"""Scale benchmark: throughput and latency through nginx for 1, 2 and 3 Rasa instances.

For each instance count the production topology (bot/ops/topology.py: nginx, the Rasa
instances, one action server, PostgreSQL, Redis) is launched, warmed up, then loaded by
Debian's wrk (bot/ops/bench_load.lua: one visitor per connection, 10-turn conversations over
bench.MIX, which mixes answers given by rules and by database actions) at 20 and 50
concurrent users. Each run reports messages/s, p50/p95 latency, errors (0 expected), and the
CPU seconds each part used during it, read from /proc/<pid>/stat (a process and all its
descendants, reaped children included, so PostgreSQL is its whole server from the
postmaster), next to the machine's own busy time: where the time goes when 2 instances do not
reach 1.5x the throughput of one.

`make bench` runs it (results/bench.json "scale", results/bench.md); alone:
`python -m bot.ops.bench_scale [--model PATH] [--seconds 30]`, which updates the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from bot.ops.bench import MIX
from bot.ops.launcher import ROOT, current_model

LOAD_SCRIPT = ROOT / "bot" / "ops" / "bench_load.lua"
PARTS = ("rasa", "actions", "postgresql", "redis", "nginx")
GOAL_RATIO = 1.5
# Nothing may throttle the bench: the channels' limits (common/settings.py) and nginx's own.
UNTHROTTLED_ENV = {
    "RATE_LIMIT_PER_ADDRESS": "0",
    "RATE_LIMIT_PER_CONVERSATION": "0",
    "NGINX_RATE_PER_ADDRESS": "0",
}
MARKER = "## Scale-out through nginx"
TRACKER_DB = "urbact_bench_tracker"  # the bench's own databases, never make run-production's
KB_DB = "urbact_bench_kb"


# --------------------------------------------------------------------------- CPU accounting

@dataclass(frozen=True)
class ProcStat:
    """What /proc/<pid>/stat says about one process: its parent and its CPU ticks, its own
    (utime + stime) and those of its reaped children (cutime + cstime)."""

    pid: int
    ppid: int
    ticks: int


def parse_stat(text: str) -> ProcStat:
    """One /proc/<pid>/stat line; the command name (field 2) may hold spaces and brackets."""
    pid = int(text.split(" ", 1)[0])
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return ProcStat(pid, ppid, utime + stime + cutime + cstime)


def read_processes(proc: Path = Path("/proc")) -> Dict[int, ProcStat]:
    table: Dict[int, ProcStat] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = parse_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        table[stat.pid] = stat
    return table


def descendants(roots: Iterable[int], table: Mapping[int, ProcStat]) -> Set[int]:
    """The roots (those alive) and every process below them."""
    children: Dict[int, List[int]] = {}
    for stat in table.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found: Set[int] = set()
    stack = [pid for pid in roots if pid in table]
    while stack:
        pid = stack.pop()
        if pid not in found:
            found.add(pid)
            stack.extend(children.get(pid, ()))
    return found


def ticks_by_part(parts: Mapping[str, Sequence[int]], table: Mapping[int, ProcStat]) -> Dict[str, int]:
    """CPU ticks of each part: its processes and their descendants, each counted once.

    A process that ends during a run leaves its time in its parent's cutime/cstime once
    reaped, so the difference of two readings keeps it."""
    return {name: sum(table[pid].ticks for pid in descendants(pids, table)) for name, pids in parts.items()}


def machine_ticks(text: str) -> Dict[str, int]:
    """Busy, idle and steal ticks of the whole machine from /proc/stat's first line."""
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in text.split()[1:9])
    return {"busy": user + nice + system + irq + softirq, "idle": idle + iowait, "steal": steal}


@dataclass(frozen=True)
class CpuReading:
    parts: Dict[str, int]
    machine: Dict[str, int]


def read_cpu(parts: Mapping[str, Sequence[int]]) -> CpuReading:
    return CpuReading(ticks_by_part(parts, read_processes()),
                      machine_ticks(Path("/proc/stat").read_text().splitlines()[0]))


def cpu_used(before: CpuReading, after: CpuReading, hz: int, load_generator_s: float) -> Dict[str, float]:
    """CPU seconds of each part between two readings, the load generator's, the rest of the
    machine's busy time ("other": other people's work, the kernel) and the idle and steal."""
    used = {name: (after.parts.get(name, 0) - before.parts.get(name, 0)) / hz for name in before.parts}
    used["load_generator"] = load_generator_s
    busy = (after.machine["busy"] - before.machine["busy"]) / hz
    used["other"] = max(0.0, busy - sum(used.values()))
    used["idle"] = (after.machine["idle"] - before.machine["idle"]) / hz
    used["steal"] = (after.machine["steal"] - before.machine["steal"]) / hz
    return {name: round(value, 2) for name, value in used.items()}


# --------------------------------------------------------------------------- load

def wrk_command(url: str, users: int, seconds: int, mix_file: Path, tag: str) -> List[str]:
    return ["wrk", "-t", str(users), "-c", str(users), "-d", f"{seconds}s", "--timeout", "30s",
            "-s", str(LOAD_SCRIPT), url, "--", str(mix_file), tag]


def parse_wrk(output: str) -> Dict[str, Any]:
    """The numbers printed by bench_load.lua's done() on its WRK_RESULT line."""
    for line in output.splitlines():
        if line.startswith("WRK_RESULT "):
            raw = json.loads(line[len("WRK_RESULT "):])
            break
    else:
        raise RuntimeError(f"wrk printed no result:\n{output[-2000:]}")
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw["errors"].values())
    return {
        "messages": raw["requests"],
        "seconds": round(seconds, 2),
        "throughput_msg_per_s": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(raw["latency_us"]["p50"] / 1000, 1),
        "p95_ms": round(raw["latency_us"]["p95"] / 1000, 1),
        "p99_ms": round(raw["latency_us"]["p99"] / 1000, 1),
        "errors": errors,
        "error_kinds": {kind: n for kind, n in raw["errors"].items() if n},
        "empty_replies": raw["empty"],
    }


def run_wrk(command: Sequence[str]) -> Tuple[str, float]:
    """wrk's output and the CPU seconds it used (its rusage, read when it is reaped)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output[-2000:]}")
    return output, usage.ru_utime + usage.ru_stime


def mix_file(folder: Path) -> Path:
    path = folder / "mix.txt"
    path.write_text("".join(json.dumps(text, ensure_ascii=False) + "\n" for text in MIX), encoding="utf-8")
    return path


def post(url: str, sender: str, text: str) -> None:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        answer.read()


def warm_up(topology: Any, stamp: str) -> None:
    """One unmeasured pass over the mix on each instance (its first traced predictions, its
    first database connections), then one through nginx."""
    for number, instance in enumerate(topology.instances):
        for text in MIX:
            post(instance.rest_url, f"scale{stamp}-warmup-{number}", text)
    for text in MIX:
        post(topology.rest_url, f"scale{stamp}-warmup-nginx", text)


# --------------------------------------------------------------------------- runs

def measure(topology: Any, users: int, seconds: int, folder: Path, tag: str) -> Dict[str, Any]:
    parts = {name: list(topology.pids().get(name, [])) for name in PARTS}
    instances = {f"rasa-{i.index}": [i.process.pid] for i in topology.instances}
    command = wrk_command(topology.rest_url, users, seconds, mix_file(folder), tag)
    before = read_cpu({**parts, **instances})
    output, wrk_cpu = run_wrk(command)
    after = read_cpu({**parts, **instances})
    result = parse_wrk(output)
    hz = os.sysconf("SC_CLK_TCK")
    cpu = cpu_used(_only(before, parts), _only(after, parts), hz, round(wrk_cpu, 2))
    per_instance = [round((after.parts[name] - before.parts[name]) / hz, 2) for name in instances]
    result.update(users=users, cpu_s=cpu, rasa_cpu_s_per_instance=per_instance,
                  missing_parts=[name for name, pids in parts.items() if not pids])
    return result


def _only(reading: CpuReading, parts: Mapping[str, Any]) -> CpuReading:
    return CpuReading({name: reading.parts[name] for name in parts}, reading.machine)


def fresh_tracker_database(port: int, name: str) -> None:
    """Every instance count starts from an empty conversations database of its own (the
    bench's, never make run-production's), so earlier runs' conversations weigh on none."""
    from bot.ops.services import answers
    from bot.ops.topology import postgres_connect

    if not answers(port):
        return  # the topology starts a throwaway server: empty already
    connection = postgres_connect(port)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        connection.close()


def scale_runs(model: Path, instance_counts: Sequence[int], users: Sequence[int], seconds: int) -> List[Dict[str, Any]]:
    from bot.ops.services import POSTGRES_PORT
    from bot.ops.topology import Topology  # imports psycopg2: only when run

    subprocess.run([str(ROOT / "bot/ops/ensure_wrk.sh")], check=True)
    runs: List[Dict[str, Any]] = []
    stamp = time.strftime("%H%M%S")
    with tempfile.TemporaryDirectory(prefix="urbact-bench-scale-") as folder:
        for count in instance_counts:
            fresh_tracker_database(POSTGRES_PORT, TRACKER_DB)
            started = time.monotonic()
            with Topology.running(model=model, instances=count, extra_env=dict(UNTHROTTLED_ENV),
                                  tracker_db=TRACKER_DB, kb_db=KB_DB) as topology:
                ready_s = round(time.monotonic() - started, 1)
                warm_up(topology, stamp)
                for number in users:
                    print(f"scale bench: {count} instance(s), {number} users, {seconds} s", flush=True)
                    run = measure(topology, number, seconds, Path(folder), f"scale{stamp}-{count}x{number}")
                    runs.append({"instances": count, "ready_s": ready_s, **run})
    return runs


# --------------------------------------------------------------------------- report

def find_run(runs: Sequence[Mapping[str, Any]], instances: int, users: int) -> Optional[Mapping[str, Any]]:
    return next((r for r in runs if r["instances"] == instances and r["users"] == users), None)


def ratio(runs: Sequence[Mapping[str, Any]], users: int, more: int = 2, fewer: int = 1) -> Optional[float]:
    """Throughput of `more` instances over that of `fewer`, at the same number of users."""
    high, low = find_run(runs, more, users), find_run(runs, fewer, users)
    if not high or not low or not low["throughput_msg_per_s"]:
        return None
    return round(high["throughput_msg_per_s"] / low["throughput_msg_per_s"], 2)


def cpu_ms_per_message(run: Mapping[str, Any]) -> float:
    """CPU the whole serving path (every part and the load generator) spent per message."""
    parts = [v for k, v in run["cpu_s"].items() if k not in ("other", "idle", "steal")]
    return round(1000 * sum(parts) / run["messages"], 1) if run["messages"] else float("nan")


def machine_ceiling(run: Mapping[str, Any], cpus: int) -> float:
    """Messages/s the machine could serve if all its cores did nothing but this work, at the
    CPU per message of `run`: the bound a second instance runs into on 2 cores."""
    per_message = cpu_ms_per_message(run)
    return round(cpus * 1000 / per_message, 1) if per_message else float("nan")


def one_core_ceiling(run: Mapping[str, Any]) -> float:
    """Messages/s one Rasa instance could serve with a core of its own, at the Rasa CPU per
    message of `run` (a Rasa process serves from one Python thread: one core at most)."""
    rasa_ms = 1000 * run["cpu_s"].get("rasa", 0.0) / run["messages"] if run["messages"] else 0.0
    return round(1000 / rasa_ms, 1) if rasa_ms else float("nan")


def summarise(runs: List[Dict[str, Any]], cpus: int) -> Dict[str, Any]:
    users = sorted({r["users"] for r in runs})
    ratios = {f"{u}_users": {"2_vs_1": ratio(runs, u, 2, 1), "3_vs_1": ratio(runs, u, 3, 1)} for u in users}
    ceilings = {}
    for u in users:
        one = find_run(runs, 1, u)
        if one:
            ceiling, alone = machine_ceiling(one, cpus), one_core_ceiling(one)
            ceilings[f"{u}_users"] = {"msg_per_s": ceiling,
                                      "ratio": round(ceiling / one["throughput_msg_per_s"], 2)
                                      if one["throughput_msg_per_s"] else None,
                                      "one_instance_one_core_msg_per_s": alone,
                                      "projected_2_vs_1": round(ceiling / alone, 2) if alone else None}
    return {"cpus": cpus, "goal_ratio_2_vs_1": GOAL_RATIO, "runs": runs, "ratios": ratios,
            "machine_ceiling_from_1_instance": ceilings}


def where_time_goes(run: Mapping[str, Any], cpus: int) -> str:
    """One sentence: the machine's busy share and the largest CPU users of a run."""
    capacity = run["seconds"] * cpus
    if not capacity:
        return "no time measured"
    cpu = run["cpu_s"]
    busy = 100 - 100 * (cpu.get("idle", 0.0) + cpu.get("steal", 0.0)) / capacity
    users = sorted(((v, k) for k, v in cpu.items() if k not in ("idle", "steal")), reverse=True)[:3]
    named = ", ".join(f"{name} {100 * value / capacity:.0f} %" for value, name in users)
    return f"the {cpus} cores were {busy:.0f} % busy ({named}; steal {100 * cpu.get('steal', 0.0) / capacity:.0f} %)"


def times(value: Optional[float]) -> str:
    return "—" if value is None else f"{value}x"


def share(seconds: float, run: Mapping[str, Any], cpus: int) -> str:
    capacity = run["seconds"] * cpus
    return f"{seconds:.1f} ({100 * seconds / capacity:.0f} %)" if capacity else f"{seconds:.1f}"


def markdown(scale: Mapping[str, Any]) -> str:
    cpus, runs = scale["cpus"], scale["runs"]
    lines = [MARKER, "",
             "wrk through nginx (bot/ops/bench_scale.py), 10-turn conversations over the bench mix, "
             "rate limits off.", "",
             "| instances | users | msg/s | p50 (ms) | p95 (ms) | errors | CPU ms per message |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        lines.append(f"| {r['instances']} | {r['users']} | {r['throughput_msg_per_s']} | {r['p50_ms']} | "
                     f"{r['p95_ms']} | {r['errors']} | {cpu_ms_per_message(r)} |")
    lines.append("")
    for key, values in scale["ratios"].items():
        two = values["2_vs_1"]
        verdict = "not measured" if two is None else ("goal met" if two >= GOAL_RATIO else "**below the goal**")
        ceiling = scale["machine_ceiling_from_1_instance"].get(key, {})
        lines.append(f"- {key.replace('_', ' ')}: 2 vs 1 instance **{times(two)}** (goal ≥ {GOAL_RATIO}x: {verdict}), "
                     f"3 vs 1 {times(values['3_vs_1'])}; the {cpus} cores, fully busy at the CPU per message "
                     f"of 1 instance, would allow {ceiling.get('msg_per_s', '—')} msg/s ({times(ceiling.get('ratio'))}); "
                     f"1 instance with a core of its own {ceiling.get('one_instance_one_core_msg_per_s', '—')} msg/s, "
                     f"so on a machine of its own 2 instances could reach at most "
                     f"{times(ceiling.get('projected_2_vs_1'))}.")
        two_run = find_run(runs, 2, int(key.split("_")[0]))
        if two is not None and two < GOAL_RATIO and two_run:
            lines.append(f"  Where the time went with 2 instances: {where_time_goes(two_run, cpus)}.")
    columns = [*PARTS, "load_generator", "other", "idle", "steal"]
    lines += ["", f"CPU seconds during each run (share of the {cpus} cores' time; rasa: the instances' sum "
              "= each instance; other: the rest of the machine's busy time):", "",
              "| instances | users | " + " | ".join(columns) + " |",
              "| --- | --- | " + " | ".join("---" for _ in columns) + " |"]
    for r in runs:
        cells = [share(r["cpu_s"].get(c, 0.0), r, cpus) for c in columns]
        if len(r.get("rasa_cpu_s_per_instance", [])) > 1:
            cells[0] += " = " + " + ".join(f"{x:.1f}" for x in r["rasa_cpu_s_per_instance"])
        lines.append(f"| {r['instances']} | {r['users']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def merge_markdown(existing: str, section: str) -> str:
    """`existing` with its scale section (from MARKER to the end) replaced by `section`."""
    head = existing.split(MARKER, 1)[0].rstrip("\n")
    return f"{head}\n\n{section}" if head else section


def write_results(scale: Mapping[str, Any], output: Path) -> str:
    """Add the scale results to results/bench.json (key "scale") and results/bench.md."""
    output.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(output.read_text(encoding="utf-8")) if output.exists() else {}
    results["scale"] = scale
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    section = markdown(scale)
    table = output.with_suffix(".md")
    table.write_text(merge_markdown(table.read_text(encoding="utf-8") if table.exists() else "", section),
                     encoding="utf-8")
    return section


def run(model: Path, instance_counts: Sequence[int] = (1, 2, 3), users: Sequence[int] = (20, 50),
        seconds: int = 30) -> Dict[str, Any]:
    runs = scale_runs(model, instance_counts, users, seconds)
    return summarise(runs, os.cpu_count() or 1)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="trained model (default: the current one, bot/ops/model.sh)")
    parser.add_argument("--seconds", type=int, default=30, help="length of each measured run")
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--users", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "bench.json")
    args = parser.parse_args(argv)
    scale = run(args.model or current_model(), args.instances, args.users, args.seconds)
    print(write_results(scale, args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
