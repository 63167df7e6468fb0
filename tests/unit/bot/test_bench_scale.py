"""The scale benchmark's own parts: CPU accounting from /proc, wrk's Lua load and its
parsing, the ratio, the machine's ceiling and the report (bot/ops/bench_scale.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from bot.ops import bench_scale
from bot.ops.bench import MIX
from bot.ops.bench_scale import ProcStat

ROOT = Path(__file__).resolve().parents[3]


# --------------------------------------------------------------------------- CPU accounting

def test_stat_line_with_spaces_and_brackets_in_the_name() -> None:
    fields = ["S", "7"] + ["0"] * 9 + ["120", "30", "5", "2"] + ["0"] * 30
    stat = bench_scale.parse_stat("4242 (postgres: a) (b) " + " ".join(fields))
    assert stat == ProcStat(pid=4242, ppid=7, ticks=157)


def test_stat_of_this_process_reads_its_parent() -> None:
    stat = bench_scale.parse_stat(Path(f"/proc/{os.getpid()}/stat").read_text())
    assert (stat.pid, stat.ppid) == (os.getpid(), os.getppid())


def test_a_tree_is_counted_once_even_when_a_child_is_named_too() -> None:
    table = {1: ProcStat(1, 0, 1000), 10: ProcStat(10, 1, 100), 11: ProcStat(11, 10, 10),
             12: ProcStat(12, 10, 1), 20: ProcStat(20, 1, 5000)}
    assert bench_scale.descendants([10], table) == {10, 11, 12}
    ticks = bench_scale.ticks_by_part({"nginx": [10, 11], "gone": [99], "redis": [20]}, table)
    assert ticks == {"nginx": 111, "gone": 0, "redis": 5000}


def burn(seconds: float) -> List[str]:
    code = f"import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"
    return [sys.executable, "-c", code]


def test_cpu_of_a_real_process_tree_includes_its_reaped_children() -> None:
    """A parent that starts one child burning 0.4 s and reaps it, then burns 0.3 s itself:
    the difference of two readings holds both, though the child is gone at the end."""
    script = (f"import subprocess, time\nsubprocess.run({burn(0.4)!r})\n"
              "open(__import__('sys').argv[1], 'w').close()\n" + burn(0.3)[2] + "time.sleep(30)\n")
    flag = Path(f"/tmp/bench-scale-test-{os.getpid()}")
    flag.unlink(missing_ok=True)
    parent = subprocess.Popen([sys.executable, "-c", script, str(flag)])
    try:
        before = bench_scale.read_cpu({"part": [parent.pid]})
        deadline = time.monotonic() + 30
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.8)  # the parent's own burn
        after = bench_scale.read_cpu({"part": [parent.pid]})
    finally:
        parent.kill()
        parent.wait()
        flag.unlink(missing_ok=True)
    used = bench_scale.cpu_used(before, after, os.sysconf("SC_CLK_TCK"), 0.0)
    assert 0.6 <= used["part"] <= 1.2, used
    assert used["idle"] >= 0 and used["other"] >= 0


def test_machine_ticks_and_cpu_used() -> None:
    assert bench_scale.machine_ticks("cpu  100 5 20 800 10 1 2 7 0 0") == {"busy": 128, "idle": 810, "steal": 7}
    before = bench_scale.CpuReading({"rasa": 100, "redis": 10}, {"busy": 1000, "idle": 5000, "steal": 0})
    after = bench_scale.CpuReading({"rasa": 400, "redis": 30}, {"busy": 1600, "idle": 5100, "steal": 20})
    used = bench_scale.cpu_used(before, after, 100, 0.5)
    assert used == {"rasa": 3.0, "redis": 0.2, "load_generator": 0.5, "other": 2.3, "idle": 1.0, "steal": 0.2}


# --------------------------------------------------------------------------- report

def a_run(instances: int, users: int, throughput: float, rasa_s: float) -> Dict[str, Any]:
    messages = int(throughput * 10)
    return {"instances": instances, "users": users, "messages": messages, "seconds": 10.0,
            "throughput_msg_per_s": throughput, "p50_ms": 400.0, "p95_ms": 900.0, "errors": 0,
            "cpu_s": {"rasa": rasa_s, "actions": 1.0, "postgresql": 0.5, "redis": 0.1, "nginx": 0.2,
                      "load_generator": 0.2, "other": 0.4, "idle": 6.0, "steal": 0.0}}


RUNS = [a_run(1, 20, 30.0, 8.0), {**a_run(2, 20, 42.0, 14.0), "rasa_cpu_s_per_instance": [7.2, 6.8]}, a_run(3, 20, 44.0, 15.0), a_run(1, 50, 31.0, 8.0)]


def test_ratio_of_throughputs_at_the_same_number_of_users() -> None:
    assert bench_scale.ratio(RUNS, 20) == 1.4
    assert bench_scale.ratio(RUNS, 20, 3, 1) == 1.47
    assert bench_scale.ratio(RUNS, 50) is None  # no 2-instance run at 50 users


def test_cpu_per_message_and_the_machine_ceiling() -> None:
    one = RUNS[0]  # 300 messages, 10 s of CPU in the serving parts and the load generator
    assert bench_scale.cpu_ms_per_message(one) == 33.3
    assert bench_scale.machine_ceiling(one, 2) == 60.1  # 2 cores / 33.3 ms
    assert bench_scale.one_core_ceiling(one) == 37.5  # 1 core / (8 s of Rasa / 300 messages)


def test_report_names_the_ratio_the_goal_and_the_cpu_of_each_part() -> None:
    scale = bench_scale.summarise(list(RUNS), 2)
    assert scale["ratios"]["20_users"] == {"2_vs_1": 1.4, "3_vs_1": 1.47}
    assert scale["machine_ceiling_from_1_instance"]["20_users"] == {
        "msg_per_s": 60.1, "ratio": 2.0, "one_instance_one_core_msg_per_s": 37.5, "projected_2_vs_1": 1.6}
    text = bench_scale.markdown(scale)
    assert text.startswith(bench_scale.MARKER)
    assert "2 vs 1 instance **1.4x** (goal ≥ 1.5x: **below the goal**), 3 vs 1 1.47x" in text
    assert "1 instance with a core of its own 37.5 msg/s, so on a machine of its own 2 instances could reach at most 1.6x" in text
    assert ("Where the time went with 2 instances: the 2 cores were 70 % busy (rasa 70 %, actions 5 %, "
            "postgresql 2 %; steal 0 %)") in text
    assert "50 users: 2 vs 1 instance **—** (goal ≥ 1.5x: not measured), 3 vs 1 —" in text
    assert "| 2 | 20 | 42.0 | 400.0 | 900.0 | 0 | 38.1 |" in text
    assert "| 1 | 20 | 8.0 (40 %) | 1.0 (5 %) | 0.5 (2 %) | 0.1 (0 %) | 0.2 (1 %) | 0.2 (1 %) |" in text
    assert "| 2 | 20 | 14.0 (70 %) = 7.2 + 6.8 | 1.0 (5 %) |" in text


def test_results_are_added_to_the_bench_files(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    output.write_text(json.dumps({"embedded": {"x": 1}}), encoding="utf-8")
    output.with_suffix(".md").write_text("| measure |\n", encoding="utf-8")
    scale = bench_scale.summarise(list(RUNS), 2)
    bench_scale.write_results(scale, output)
    bench_scale.write_results(scale, output)  # a second run replaces, never appends
    assert json.loads(output.read_text(encoding="utf-8"))["embedded"] == {"x": 1}
    table = output.with_suffix(".md").read_text(encoding="utf-8")
    assert table.startswith("| measure |\n\n" + bench_scale.MARKER)
    assert table.count(bench_scale.MARKER) == 1


# --------------------------------------------------------------------------- wrk and its Lua load

class FakeRasa(BaseHTTPRequestHandler):
    """Answers like Rasa's REST channel; "[]" for one message, 500 when told to."""

    protocol_version = "HTTP/1.1"
    seen: List[Dict[str, str]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeRasa.seen.append(body)
        time.sleep(0.01)
        replies = [] if body["message"] == MIX[1] else [{"recipient_id": body["sender"], "text": "Réponse"}]
        out = json.dumps(replies).encode()
        self.send_response(FakeRasa.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def fake_rasa() -> Iterator[str]:
    if shutil.which("wrk") is None and subprocess.run([str(ROOT / "bot/ops/ensure_wrk.sh")]).returncode != 0:
        pytest.skip("wrk is not installed and cannot be (not root): sudo apt-get install wrk")
    FakeRasa.seen, FakeRasa.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/rest/webhook"
    server.shutdown()


def test_wrk_sends_the_mix_one_sender_per_connection_in_conversations(fake_rasa: str, tmp_path: Path) -> None:
    command = bench_scale.wrk_command(fake_rasa, 4, 2, bench_scale.mix_file(tmp_path), "t")
    output, cpu = bench_scale.run_wrk(command)
    result = bench_scale.parse_wrk(output)
    assert result["errors"] == 0 and result["messages"] >= 40
    assert result["empty_replies"] > 0 and 0 < result["p50_ms"] <= result["p95_ms"]
    assert 0 <= cpu < 2
    by_sender: Dict[str, List[str]] = {}
    for body in FakeRasa.seen:
        by_sender.setdefault(body["sender"], []).append(body["message"])
    assert {sender.rsplit("-", 1)[0] for sender in by_sender} == {"t-0", "t-1", "t-2", "t-3"}
    assert all(len(messages) <= len(MIX) for messages in by_sender.values())
    assert set(by_sender["t-1-0"]) == set(MIX)  # a whole conversation, accents intact


def test_wrk_counts_refused_messages_as_errors(fake_rasa: str, tmp_path: Path) -> None:
    FakeRasa.status = 500
    output, _ = bench_scale.run_wrk(bench_scale.wrk_command(fake_rasa, 2, 1, bench_scale.mix_file(tmp_path), "e"))
    result = bench_scale.parse_wrk(output)
    assert result["messages"] > 0 and result["errors"] == result["messages"]
    assert result["error_kinds"] == {"status": result["messages"]}
