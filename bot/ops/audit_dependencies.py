"""Audit both lock files with pip-audit and compare the findings with the accepted ones.

The accepted findings live in one place: the table under "## Dependency audit" in
docs/security.md (columns id | package | version | reason). Results go to results/audit.json.

Exit codes: 0 no unaccepted finding; 1 unaccepted findings; 2 the vulnerability service could
not be reached (nothing audited); 3 the audit itself failed (bad table, pip-audit error).

Usage: python -m bot.ops.audit_dependencies [--lock FILE ...] [--service osv|pypi]
Environment: AUDIT_PIP_AUDIT (command running pip-audit, default: this Python's pip_audit),
AUDIT_SERVICE (osv), AUDIT_OSV_URL (OSV endpoint), AUDIT_TIMEOUT (seconds, 15).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LOCKS = ("requirements/rasa.lock", "requirements/actions.lock")
SECTION_HEADING = "## Dependency audit"
TABLE_COLUMNS = ["id", "package", "version", "reason"]
SERVICE_NAMES = {"osv": "OSV (api.osv.dev)", "pypi": "PyPI (pypi.org/pypi/<nom>/<version>/json)"}

EXIT_OK, EXIT_UNACCEPTED, EXIT_UNREACHABLE, EXIT_ERROR = 0, 1, 2, 3

# Network failures as pip-audit reports them: only ConnectTimeout is wrapped in its own
# ConnectionError; DNS failures, refused connections and HTTP errors escape as tracebacks.
UNREACHABLE_PATTERNS = re.compile(
    r"ConnectionError|NameResolutionError|Failed to resolve|Connection refused|"
    r"Max retries exceeded|ConnectTimeout|ReadTimeout|Could not connect to|HTTPError|"
    r"network may be blocking"
)


@dataclass(frozen=True)
class Accepted:
    id: str
    package: str
    version: str
    reason: str


@dataclass(frozen=True)
class Finding:
    id: str
    aliases: Tuple[str, ...]
    package: str
    version: str
    fix_versions: Tuple[str, ...]

    def ids(self) -> Tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass
class LockResult:
    lock: str
    status: str  # "ok", "unaccepted", "unreachable", "error"
    message: str = ""
    audited: int = 0
    skipped: List[Dict[str, str]] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)
    accepted: List[Finding] = field(default_factory=list)
    unaccepted: List[Finding] = field(default_factory=list)


class AuditError(Exception):
    """The audit could not be run or read (French message)."""


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def table_cells(line: str) -> List[str]:
    return [cell.strip().strip("`").strip() for cell in line.strip().strip("|").split("|")]


def section_lines(markdown: str, heading: str = SECTION_HEADING) -> List[str]:
    lines = markdown.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        raise AuditError(f"titre « {heading} » introuvable dans la documentation de sécurité")
    section: List[str] = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        section.append(line)
    return section


def parse_accepted(markdown: str) -> List[Accepted]:
    """Rows of the accepted-findings table under the "Dependency audit" heading."""
    rows = [line for line in section_lines(markdown) if line.strip().startswith("|")]
    if not rows or [c.lower() for c in table_cells(rows[0])] != TABLE_COLUMNS:
        raise AuditError("tableau « | id | package | version | reason | » introuvable sous "
                         f"« {SECTION_HEADING} »")
    accepted: List[Accepted] = []
    for row in rows[2:]:
        cells = table_cells(row)
        if len(cells) != len(TABLE_COLUMNS) or not all(cells):
            raise AuditError(f"ligne du tableau incomplète (id, paquet, version et raison "
                             f"sont obligatoires) : {row.strip()}")
        accepted.append(Accepted(cells[0], canonical_name(cells[1]), cells[2], cells[3]))
    return accepted


def pip_audit_command(lock: str, service: str, osv_url: Optional[str], timeout: int) -> List[str]:
    tool = os.environ.get("AUDIT_PIP_AUDIT")
    base = shlex.split(tool) if tool else [sys.executable, "-m", "pip_audit"]
    command = base + ["-r", lock, "--no-deps", "--disable-pip", "--format", "json",
                      "--progress-spinner", "off", "--vulnerability-service", service,
                      "--timeout", str(timeout)]
    if osv_url and service == "osv":
        command += ["--osv-url", osv_url]
    return command


def findings_of(report: Dict[str, Any]) -> Tuple[List[Finding], int, List[Dict[str, str]]]:
    """Findings, number of audited packages and skipped packages of pip-audit's JSON."""
    findings: List[Finding] = []
    audited = 0
    skipped: List[Dict[str, str]] = []
    for dependency in report["dependencies"]:
        if "skip_reason" in dependency:
            skipped.append({"package": dependency["name"], "reason": dependency["skip_reason"]})
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            findings.append(Finding(
                id=vuln["id"],
                aliases=tuple(vuln.get("aliases", [])),
                package=canonical_name(dependency["name"]),
                version=dependency["version"],
                fix_versions=tuple(vuln.get("fix_versions", [])),
            ))
    return findings, audited, skipped


def is_accepted(finding: Finding, accepted: Sequence[Accepted]) -> bool:
    return any(row.id in finding.ids() and row.package == finding.package
               and row.version == finding.version for row in accepted)


def classify(lock: str, report: Dict[str, Any], accepted: Sequence[Accepted]) -> LockResult:
    findings, audited, skipped = findings_of(report)
    if audited == 0 and skipped:
        # PyPI's per-version JSON answering 404 makes pip-audit skip every package and
        # still say "No known vulnerabilities found": nothing was audited.
        return LockResult(lock, "unreachable", "aucun paquet n'a pu être audité "
                          f"({len(skipped)} ignorés par le service)", skipped=skipped)
    result = LockResult(lock, "ok", audited=audited, skipped=skipped, findings=findings)
    result.accepted = [f for f in findings if is_accepted(f, accepted)]
    result.unaccepted = [f for f in findings if not is_accepted(f, accepted)]
    if result.unaccepted:
        result.status = "unaccepted"
    return result


def run_pip_audit(command: List[str], timeout: int) -> Tuple[int, str, str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                              timeout=max(60, timeout * 20))
    except subprocess.TimeoutExpired:
        return -1, "", "ReadTimeout: pip-audit n'a pas fini à temps"
    except OSError as error:
        raise AuditError(f"impossible de lancer pip-audit ({command[0]}) : {error}")
    return done.returncode, done.stdout, done.stderr


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(aucune sortie)"


def audit_lock(lock: str, accepted: Sequence[Accepted], service: str,
               osv_url: Optional[str], timeout: int) -> LockResult:
    returncode, stdout, stderr = run_pip_audit(
        pip_audit_command(lock, service, osv_url, timeout), timeout)
    try:
        report = json.loads(stdout)
    except ValueError:
        report = None
    if isinstance(report, dict) and isinstance(report.get("dependencies"), list):
        return classify(lock, report, accepted)
    if UNREACHABLE_PATTERNS.search(stderr):
        return LockResult(lock, "unreachable", last_line(stderr))
    return LockResult(lock, "error", f"pip-audit a échoué (code {returncode}) : {last_line(stderr)}")


def stale_accepted(accepted: Sequence[Accepted], results: Sequence[LockResult]) -> List[Accepted]:
    """Accepted rows matched by no finding (only meaningful when every lock was audited)."""
    findings = [f for r in results for f in r.findings]
    return [row for row in accepted
            if not any(is_accepted(f, [row]) for f in findings)]


def exit_code(results: Sequence[LockResult]) -> int:
    statuses = {r.status for r in results}
    if "unaccepted" in statuses:
        return EXIT_UNACCEPTED
    if "error" in statuses:
        return EXIT_ERROR
    if "unreachable" in statuses:
        return EXIT_UNREACHABLE
    return EXIT_OK


def overall_status(code: int) -> str:
    return {EXIT_OK: "ok", EXIT_UNACCEPTED: "unaccepted", EXIT_UNREACHABLE: "unreachable",
            EXIT_ERROR: "error"}[code]


def shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def describe(finding: Finding) -> str:
    fixes = ", ".join(finding.fix_versions) or "aucune"
    return (f"{finding.id} : {finding.package} {finding.version} "
            f"(versions corrigées : {fixes})")


def summary_lines(results: Sequence[LockResult], stale: Sequence[Accepted], service: str) -> List[str]:
    lines: List[str] = []
    for r in results:
        if r.status == "unreachable":
            lines.append(f"{r.lock} : NON AUDITÉ, service de vulnérabilités {SERVICE_NAMES[service]} "
                         f"injoignable ({shorten(r.message)})")
        elif r.status == "error":
            lines.append(f"{r.lock} : NON AUDITÉ, {shorten(r.message)}")
        else:
            lines.append(f"{r.lock} : {r.audited} paquets audités, {len(r.findings)} vulnérabilités "
                         f"({len(r.accepted)} acceptées, {len(r.unaccepted)} non acceptées)")
            lines += [f"  NON ACCEPTÉE {describe(f)}" for f in r.unaccepted]
            lines += [f"  ignoré : {s['package']} ({s['reason']})" for s in r.skipped]
    for row in stale:
        lines.append(f"À retirer du tableau de docs/security.md : {row.id} ({row.package} "
                     f"{row.version}), ce problème n'apparaît plus")
    if any(r.status == "unreachable" for r in results):
        lines.append(f"Rien n'a été audité pour ces fichiers : le service {SERVICE_NAMES[service]} "
                     "n'a pas pu être joint.")
    return lines


def write_results(path: Path, results: Sequence[LockResult], stale: Sequence[Accepted],
                  service: str, code: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "status": overall_status(code),
        "exit_code": code,
        "service": service,
        "locks": {r.lock: asdict(r) for r in results},
        "stale_accepted": [asdict(row) for row in stale],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lock", action="append", dest="locks")
    parser.add_argument("--security-doc", type=Path, default=ROOT / "docs/security.md")
    parser.add_argument("--output", type=Path, default=ROOT / "results/audit.json")
    parser.add_argument("--service", choices=sorted(SERVICE_NAMES),
                        default=os.environ.get("AUDIT_SERVICE", "osv"))
    parser.add_argument("--osv-url", default=os.environ.get("AUDIT_OSV_URL"))
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("AUDIT_TIMEOUT", "15")))
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    locks = args.locks or list(DEFAULT_LOCKS)
    try:
        accepted = parse_accepted(args.security_doc.read_text(encoding="utf-8"))
        results = [audit_lock(lock, accepted, args.service, args.osv_url, args.timeout)
                   for lock in locks]
    except (AuditError, OSError) as error:
        print(f"Audit des dépendances impossible : {error}", file=sys.stderr)
        return EXIT_ERROR
    audited_all = all(r.status in ("ok", "unaccepted") for r in results)
    stale = stale_accepted(accepted, results) if audited_all else []
    code = exit_code(results)
    write_results(args.output, results, stale, args.service, code)
    print("\n".join(summary_lines(results, stale, args.service)))
    return code


if __name__ == "__main__":
    sys.exit(main())
