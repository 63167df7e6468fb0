"""The dependency-audit gate (bot/ops/audit_dependencies.py).

The exit-code tests run the script and the real pip-audit (`.venv-audit`, or AUDIT_PIP_AUDIT)
in subprocesses against a local stand-in of the OSV API (OSV's request/response schema), or a
closed local port for the unreachable case. `make test-audit` builds `.venv-audit` and runs
this file (`make test-unit` leaves it out); without pip-audit these tests fail.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from bot.ops import audit_dependencies as audit

ROOT = Path(__file__).resolve().parents[3]

# pip-audit 2.10.1's own JsonFormat(output_desc=True, output_aliases=True) output (the format
# of `--format json`), produced in its venv from ResolvedDependency / SkippedDependency /
# VulnerabilityResult objects.
PIP_AUDIT_JSON = (
    '{"dependencies": [{"name": "aiohttp", "version": "3.9.5", "vulns": [{"id": "PYSEC-2024-1", '
    '"fix_versions": ["3.9.4", "3.10.2"], "aliases": ["CVE-2024-1"], "description": "d1"}, '
    '{"id": "GHSA-dddd-eeee-ffff", "fix_versions": [], "aliases": [], "description": "d2"}]}, '
    '{"name": "pyyaml", "version": "6.0.4", "vulns": []}, {"name": "fr-core-news-md", '
    '"skip_reason": "Dependency not found on PyPI and could not be audited: fr-core-news-md '
    '(3.8.0)"}], "fixes": []}'
)


def security_doc(rows: str = "") -> str:
    return (
        "# Security\n\n## Closed doors\n\n| id | package | version | reason |\n| --- | --- | --- | --- |\n"
        "| NOT-THIS-ONE | x | 1 | another section |\n\n"
        "## Dependency audit\n\nText.\n\n| id | package | version | reason |\n| --- | --- | --- | --- |\n"
        f"{rows}\n## Still open (issue 10)\n\n| a | b |\n| --- | --- |\n| c | d |\n"
    )


# --- the accepted table ---------------------------------------------------------------------

def test_the_table_under_the_heading_is_read_and_only_it() -> None:
    rows = "| `PYSEC-2024-1` | aiohttp | 3.9.5 | not reachable: we never call the client |\n" \
           "| GHSA-x | PyYAML | 6.0.4 | safe_load only |\n"
    accepted = audit.parse_accepted(security_doc(rows))
    assert accepted == [
        audit.Accepted("PYSEC-2024-1", "aiohttp", "3.9.5", "not reachable: we never call the client"),
        audit.Accepted("GHSA-x", "pyyaml", "6.0.4", "safe_load only"),
    ]


def test_the_project_security_doc_has_the_table() -> None:
    text = (ROOT / "docs/security.md").read_text(encoding="utf-8")
    assert isinstance(audit.parse_accepted(text), list)


@pytest.mark.parametrize("doc", [
    "# Security\n\n## Other\n\n| id | package | version | reason |\n| --- | --- | --- | --- |\n",
    "# Security\n\n## Dependency audit\n\nNo table.\n\n## Next\n\n| id | package | version | reason |\n",
    security_doc("| PYSEC-1 | aiohttp | 3.9.5 |  |\n"),
])
def test_a_missing_table_or_reason_is_an_error(doc: str) -> None:
    with pytest.raises(audit.AuditError):
        audit.parse_accepted(doc)


# --- pip-audit's JSON -----------------------------------------------------------------------

def test_findings_are_classified_by_id_or_alias_package_and_version() -> None:
    accepted = [
        audit.Accepted("CVE-2024-1", "aiohttp", "3.9.5", "alias of PYSEC-2024-1"),
        audit.Accepted("GHSA-dddd-eeee-ffff", "aiohttp", "3.9.4", "accepted for another version"),
    ]
    result = audit.classify("x.lock", json.loads(PIP_AUDIT_JSON), accepted)
    assert result.status == "unaccepted"
    assert result.audited == 2
    assert [f.id for f in result.accepted] == ["PYSEC-2024-1"]
    assert [(f.id, f.package, f.version, f.fix_versions) for f in result.unaccepted] == [
        ("GHSA-dddd-eeee-ffff", "aiohttp", "3.9.5", ())]
    assert result.accepted[0].fix_versions == ("3.9.4", "3.10.2")
    assert [s["package"] for s in result.skipped] == ["fr-core-news-md"]


def test_every_package_skipped_means_nothing_was_audited() -> None:
    report = {"dependencies": [
        {"name": "aiohttp", "skip_reason": "Dependency not found on PyPI and could not be audited: aiohttp (3.9.5)"},
    ], "fixes": []}
    assert audit.classify("x.lock", report, []).status == "unreachable"


def test_an_accepted_id_no_longer_found_is_stale() -> None:
    result = audit.classify("x.lock", json.loads(PIP_AUDIT_JSON), [])
    gone = audit.Accepted("PYSEC-2020-9", "aiohttp", "3.9.5", "old")
    still = audit.Accepted("PYSEC-2024-1", "aiohttp", "3.9.5", "current")
    assert audit.stale_accepted([gone, still], [result]) == [gone]


# --- the script with the real pip-audit -----------------------------------------------------

@pytest.fixture(scope="module")
def pip_audit_tool() -> str:
    tool = os.environ.get("AUDIT_PIP_AUDIT") or str(ROOT / ".venv-audit/bin/pip-audit")
    if not os.access(tool, os.X_OK):
        pytest.fail(f"pip-audit introuvable ({tool}) : lancez `make test-audit`, qui crée .venv-audit", pytrace=False)
    return tool


class OsvStandIn(HTTPServer):
    vulns: Dict[Tuple[str, str], List[Dict[str, Any]]]
    queries: List[Dict[str, Any]]


class OsvHandler(BaseHTTPRequestHandler):
    server: OsvStandIn

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.queries.append(query)
        key = (query["package"]["name"], query["version"])
        body = json.dumps({"vulns": self.server.vulns[key]} if key in self.server.vulns else {})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def osv() -> Iterator[OsvStandIn]:
    server = OsvStandIn(("127.0.0.1", 0), OsvHandler)
    server.vulns, server.queries = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def osv_vuln(vuln_id: str, cve: str, package: str, fixed: str) -> Dict[str, Any]:
    return {"id": vuln_id, "aliases": [cve], "summary": "stand-in",
            "affected": [{"package": {"name": package, "ecosystem": "PyPI"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]}


def run_gate(tmp_path: Path, tool: str, osv_url: str, rows: str = "") -> Tuple[int, str, Dict[str, Any]]:
    lock = tmp_path / "test.lock"
    lock.write_text("aiohttp==3.9.5\npyyaml==6.0.4\n", encoding="utf-8")
    doc = tmp_path / "security.md"
    doc.write_text(security_doc(rows), encoding="utf-8")
    out = tmp_path / "audit.json"
    done = subprocess.run(
        [sys.executable, "-m", "bot.ops.audit_dependencies", "--lock", str(lock),
         "--security-doc", str(doc), "--output", str(out), "--service", "osv",
         "--osv-url", osv_url, "--timeout", "5"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "AUDIT_PIP_AUDIT": tool, "PYTHONPATH": str(ROOT)},
    )
    results = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    return done.returncode, done.stdout + done.stderr, results


def osv_url(server: OsvStandIn) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1/query"


def test_no_finding_exits_0(tmp_path: Path, pip_audit_tool: str, osv: OsvStandIn) -> None:
    code, output, results = run_gate(tmp_path, pip_audit_tool, osv_url(osv))
    assert code == 0, output
    lock = results["locks"][str(tmp_path / "test.lock")]
    assert (results["status"], lock["status"], lock["audited"]) == ("ok", "ok", 2)
    assert {q["package"]["name"] for q in osv.queries} == {"aiohttp", "pyyaml"}
    assert "2 paquets audités, 0 vulnérabilités" in output


def test_an_unaccepted_finding_exits_1_with_its_fix_versions(
        tmp_path: Path, pip_audit_tool: str, osv: OsvStandIn) -> None:
    osv.vulns[("aiohttp", "3.9.5")] = [osv_vuln("GHSA-aaaa-0001", "CVE-2099-0001", "aiohttp", "3.9.6")]
    code, output, results = run_gate(tmp_path, pip_audit_tool, osv_url(osv))
    assert code == 1, output
    # pip-audit reports the CVE as the id and the GHSA as an alias.
    assert "NON ACCEPTÉE CVE-2099-0001 : aiohttp 3.9.5 (versions corrigées : 3.9.6)" in output
    lock = results["locks"][str(tmp_path / "test.lock")]
    assert lock["status"] == "unaccepted"
    assert [(f["id"], f["package"], f["version"], f["fix_versions"]) for f in lock["unaccepted"]] == [
        ("CVE-2099-0001", "aiohttp", "3.9.5", ["3.9.6"])]


def test_an_accepted_finding_exits_0_and_a_vanished_one_is_to_remove(
        tmp_path: Path, pip_audit_tool: str, osv: OsvStandIn) -> None:
    osv.vulns[("aiohttp", "3.9.5")] = [osv_vuln("GHSA-aaaa-0001", "CVE-2099-0001", "aiohttp", "3.9.6")]
    rows = "| GHSA-aaaa-0001 | aiohttp | 3.9.5 | client only, never exposed |\n" \
           "| GHSA-0002 | pyyaml | 6.0.4 | fixed upstream since |\n"
    code, output, results = run_gate(tmp_path, pip_audit_tool, osv_url(osv), rows)
    assert code == 0, output
    lock = results["locks"][str(tmp_path / "test.lock")]
    assert [f["id"] for f in lock["accepted"]] == ["CVE-2099-0001"] and lock["unaccepted"] == []
    assert [row["id"] for row in results["stale_accepted"]] == ["GHSA-0002"]
    assert "À retirer du tableau de docs/security.md : GHSA-0002 (pyyaml 6.0.4)" in output


def test_an_unreachable_service_exits_2_and_says_nothing_was_audited(
        tmp_path: Path, pip_audit_tool: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    code, output, results = run_gate(tmp_path, pip_audit_tool, f"http://127.0.0.1:{closed_port}/v1/query")
    assert code == 2, output
    assert results["status"] == "unreachable"
    assert results["locks"][str(tmp_path / "test.lock")]["status"] == "unreachable"
    assert "Rien n'a été audité" in output and "OSV" in output and "injoignable" in output


def test_a_broken_table_exits_3_before_any_audit(tmp_path: Path) -> None:
    code, output, _ = run_gate(tmp_path, "/nonexistent/pip-audit", "http://127.0.0.1:9/v1/query",
                               rows="| GHSA-1 | aiohttp |\n")
    assert code == 3, output
    assert "ligne du tableau incomplète" in output
