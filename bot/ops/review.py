"""The review loop: from the messages the assistant missed to training examples.

    python -m bot.ops.review export [--since D] [--until D]     (make review-export)
    python -m bot.ops.review import FILE                       (make review-import FILE=...)

`export` reads the recorded conversations of a period (bot/insights/store.py: var/ SQLite by
default, TRACKER_STORE_URL or the production profile's PostgreSQL) and writes
results/review/review-<since>-<until>.csv with the user messages that fell back (rephrase or
guessed answer), were out of scope, or were understood with a confidence below
--max-confidence: the message masked for personal data (bot/insights/privacy.py), the intent
the assistant understood, its confidence, how many times it was typed (de-duplicated on the
folded text) and an empty column `intention_correcte` for staff to fill. Messages typed while
a form is active (the hand-off form's answers) and button payloads ("/...") are never exported.

`import` checks the labelled file (every label an intent of domain.yml, no message twice, no
empty message; French "file:line: ..." errors, exit 1 and nothing written on any error), skips
and reports rows whose text is already a training example of data/nlu/ (any file), and writes
the others into data/nlu/review.yml (Rasa 3.1 NLU format, one block per intent, previous
reviews kept), so the next `make model` learns them. Rows left without a label are skipped.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import yaml

from bot.insights import store
from bot.insights.privacy import mask
from bot.insights.report import default_period
from common.text import normalise_name

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "results" / "review"
NLU_DIR = ROOT / "data" / "nlu"
REVIEW_FILE_NAME = "review.yml"
DOMAIN = ROOT / "domain.yml"

MESSAGE = "message"
UNDERSTOOD = "intention_comprise"
CONFIDENCE = "confiance"
OCCURRENCES = "occurrences"
LABEL = "intention_correcte"
COLUMNS = (MESSAGE, UNDERSTOOD, CONFIDENCE, OCCURRENCES, LABEL)

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_rephrase"
OUT_OF_SCOPE_INTENT = "out_of_scope"
DEFAULT_MAX_CONFIDENCE = 0.6
# Actions that do not answer a message: the next one after them does.
NOT_ANSWERS = frozenset({"action_listen", "action_unlikely_intent", "action_session_start"})

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Rasa reads "[text](entity)", "[text]{...}" and "[text][...]" in an example as an entity
# annotation (rasa.shared.nlu.training_data.entities_parser.ENTITY_REGEX): a space after the
# "]" keeps the brackets as text.
_ANNOTATION = re.compile(r"\]([({\[])")


# --------------------------------------------------------------------------- export


@dataclass
class ReviewRow:
    """One message to review, as written in the CSV."""

    message: str
    understood: str
    confidence: float
    occurrences: int = 1


@dataclass
class _Pending:
    text: str
    intent: str
    understood: str
    confidence: float


def comparison_key(text: str) -> str:
    """Case, accents, elisions and punctuation folded (common/text.py): how two messages are
    told apart ("Quel temps fait il a Lille" is "quel temps fait-il à Lille ?")."""
    return normalise_name(text)


def _understood(parse_data: Dict[str, Any]) -> Tuple[str, str, float]:
    """(intent, intent understood, its confidence): for a fallback, the best real intent of
    the ranking, which is what the assistant hesitated on."""
    intent = parse_data.get("intent") or {}
    name = str(intent.get("name") or "")
    confidence = float(intent.get("confidence") or 0.0)
    if name == FALLBACK_INTENT:
        for ranked in parse_data.get("intent_ranking") or []:
            if ranked.get("name") and ranked["name"] != FALLBACK_INTENT:
                return name, str(ranked["name"]), float(ranked.get("confidence") or 0.0)
    return name, name, confidence


@dataclass
class _Selection:
    """Walks the events of a period in order, conversation by conversation."""

    max_confidence: float
    in_form: Set[str] = field(default_factory=set)
    pending: Dict[str, _Pending] = field(default_factory=dict)
    rows: Dict[str, ReviewRow] = field(default_factory=dict)

    def add(self, event: store.StoredEvent) -> None:
        sender = event.sender_id
        if event.type_name == "active_loop":
            if event.fields().get("name"):
                self.in_form.add(sender)
            else:
                self.in_form.discard(sender)
        elif event.type_name == "user":
            self._close(sender, None)
            self._open(sender, event.fields())
        elif event.type_name == "action" and event.action_name not in NOT_ANSWERS:
            self._close(sender, event.action_name)

    def _open(self, sender: str, data: Dict[str, Any]) -> None:
        text = " ".join(str(data.get("text") or "").split())
        if not text or text.startswith("/") or sender in self.in_form:
            return
        intent, understood, confidence = _understood(data.get("parse_data") or {})
        self.pending[sender] = _Pending(text, intent, understood, confidence)

    def _close(self, sender: str, action: Optional[str]) -> None:
        message = self.pending.pop(sender, None)
        if message is None:
            return
        fell_back = action == FALLBACK_ACTION if action else message.intent == FALLBACK_INTENT
        missed = fell_back or message.intent == OUT_OF_SCOPE_INTENT
        if not (missed or message.confidence < self.max_confidence):
            return
        shown = mask(message.text)
        key = comparison_key(shown)
        if key in self.rows:
            self.rows[key].occurrences += 1
        else:
            self.rows[key] = ReviewRow(shown, message.understood, round(message.confidence, 3))

    def finish(self) -> List[ReviewRow]:
        for sender in list(self.pending):
            self._close(sender, None)
        return sorted(self.rows.values(), key=lambda row: (-row.occurrences, row.confidence))


def select_for_review(
    events: Iterable[store.StoredEvent], max_confidence: float = DEFAULT_MAX_CONFIDENCE
) -> List[ReviewRow]:
    """The missed and low-confidence user messages, masked, de-duplicated, most typed first."""
    selection = _Selection(max_confidence)
    for event in events:
        selection.add(event)
    return selection.finish()


def write_csv(rows: Sequence[ReviewRow], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row.message, row.understood, f"{row.confidence:.3f}", row.occurrences, ""])
    return path


def export_path(since: date, until: date, out_dir: Path = OUT_DIR) -> Path:
    return out_dir / f"review-{since.isoformat()}-{until.isoformat()}.csv"


def export(since: date, until: date, conversations_url: str, out_dir: Path = OUT_DIR,
           max_confidence: float = DEFAULT_MAX_CONFIDENCE) -> Tuple[Path, int]:
    """Writes the review CSV of the period; (its path, rows written)."""
    rows = select_for_review(store.read_events(conversations_url, since, until), max_confidence)
    return write_csv(rows, export_path(since, until, out_dir)), len(rows)


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class Labelled:
    """One labelled row of the file, with its line number for messages."""

    line: int
    text: str
    intent: str


def known_intents(domain: Path = DOMAIN) -> Set[str]:
    content = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    names = set()
    for entry in content.get("intents") or []:
        names.add(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return names


def training_example(text: str) -> str:
    """The message as one line of a Rasa YAML example: one line, no control character, no
    entity annotation."""
    return _ANNOTATION.sub(r"] \1", " ".join(_CONTROL.sub(" ", text).split()))


def _rows(path: Path) -> Iterator[Tuple[int, Dict[str, str]]]:
    """(line number, row) of the CSV; ValueError (French) when a column is missing."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in (MESSAGE, LABEL) if name not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}:1: colonne(s) manquante(s) : {', '.join(missing)}")
        for row in reader:
            yield reader.line_num, {key: (value or "") for key, value in row.items() if key}


def read_labels(path: Path, intents: Set[str]) -> Tuple[List[Labelled], List[str]]:
    """The labelled rows and the errors (French, "file:line: ..."); rows without a label are
    left out."""
    labelled: List[Labelled] = []
    errors: List[str] = []
    first_seen: Dict[str, int] = {}
    try:
        rows = list(_rows(path))
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as error:
        return [], [str(error) if isinstance(error, ValueError) else f"{path}: illisible ({error})"]
    for line, row in rows:
        text, intent = training_example(row.get(MESSAGE, "")), row.get(LABEL, "").strip()
        if not text:
            errors.append(f"{path}:{line}: message vide")
            continue
        key = comparison_key(text)
        if key in first_seen:
            errors.append(f"{path}:{line}: message en double (déjà à la ligne {first_seen[key]})")
            continue
        first_seen[key] = line
        if not intent:
            continue
        if intent not in intents:
            errors.append(f"{path}:{line}: intention inconnue « {intent} » (voir les intentions de domain.yml)")
            continue
        labelled.append(Labelled(line, text, intent))
    return labelled, errors


def nlu_examples(path: Path) -> Dict[str, List[str]]:
    """The intent examples of a YAML file, or of every YAML file of a folder, by intent
    (Rasa's own reader); a missing file has none."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    examples: Dict[str, List[str]] = defaultdict(list)
    files = sorted(path.glob("*.yml")) if path.is_dir() else [path] if path.exists() else []
    for one in files:
        for message in RasaYAMLReader().read(one).intent_examples:
            examples[str(message.get("intent"))].append(str(message.get("text")))
    return examples


def render_review(examples: Dict[str, List[str]]) -> str:
    """data/nlu/review.yml: one block per intent, sorted, each example on one line."""
    lines = [
        'version: "3.1"',
        "",
        "# Examples labelled by the contact-point staff from the messages the assistant missed",
        "# (make review-export, then make review-import FILE=...: bot/ops/review.py).",
        "nlu:",
    ]
    for intent in sorted(examples):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in examples[intent]]
    return "\n".join(lines) + "\n"


def _write_atomically(path: Path, content: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".review-", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(content)
    os.replace(temporary, path)


@dataclass
class ImportResult:
    added: List[Labelled] = field(default_factory=list)
    already_known: List[Labelled] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)


def import_labels(path: Path, nlu_dir: Path = NLU_DIR, domain: Path = DOMAIN) -> ImportResult:
    """Checks the labelled CSV and adds its new rows to nlu_dir/review.yml; nothing is
    written when there is an error."""
    labelled, errors = read_labels(path, known_intents(domain))
    if errors:
        return ImportResult(errors=errors)
    everything = nlu_examples(nlu_dir)
    known = {comparison_key(text) for texts in everything.values() for text in texts}
    result = ImportResult()
    for row in labelled:
        (result.already_known if comparison_key(row.text) in known else result.added).append(row)
    if result.added:
        review_path = nlu_dir / REVIEW_FILE_NAME
        reviewed = nlu_examples(review_path)
        for row in result.added:
            reviewed[row.intent].append(row.text)
        _write_atomically(review_path, render_review(reviewed))
    return result


# --------------------------------------------------------------------------- command line


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date invalide « {raw} » (attendu : AAAA-MM-JJ)") from None


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.ops.review", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    out = commands.add_parser("export", help="écrit le CSV des messages à revoir")
    out.add_argument("--since", type=_date, help="premier jour (AAAA-MM-JJ, UTC)")
    out.add_argument("--until", type=_date, help="dernier jour inclus (AAAA-MM-JJ, UTC)")
    out.add_argument("--out-dir", type=Path, default=OUT_DIR)
    out.add_argument("--conversations-url", help="SQLAlchemy URL of the recorded conversations")
    out.add_argument("--max-confidence", type=float, default=DEFAULT_MAX_CONFIDENCE)
    into = commands.add_parser("import", help="ajoute les messages étiquetés à data/nlu/review.yml")
    into.add_argument("file", type=Path)
    into.add_argument("--nlu-dir", type=Path, default=NLU_DIR)
    into.add_argument("--domain", type=Path, default=DOMAIN)
    return parser.parse_args(argv)


def _run_export(args: argparse.Namespace) -> int:
    until = args.until or default_period()[1]
    since = args.since or default_period(until)[0]
    if since > until:
        print(f"Période vide : {since} est après {until}.", file=sys.stderr)
        return 2
    url = args.conversations_url or store.conversations_url_from_env()
    try:
        path, count = export(since, until, url, args.out_dir, args.max_confidence)
    except store.StoreUnavailable as error:
        print(f"Conversations illisibles : {error}", file=sys.stderr)
        return 1
    print(f"{count} message(s) à revoir du {since} au {until} : {path}")
    return 0


def _run_import(args: argparse.Namespace) -> int:
    result = import_labels(args.file, args.nlu_dir, args.domain)
    for error in result.errors:
        print(error, file=sys.stderr)
    if result.errors:
        print(f"{len(result.errors)} erreur(s) : rien n'a été ajouté.", file=sys.stderr)
        return 1
    for row in result.already_known:
        print(f"{args.file}:{row.line}: déjà dans data/nlu, ignoré")
    print(f"{len(result.added)} exemple(s) ajouté(s) à {args.nlu_dir / REVIEW_FILE_NAME} ; "
          "lancez `make model` pour les apprendre.")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    return _run_export(args) if args.command == "export" else _run_import(args)


if __name__ == "__main__":
    sys.exit(main())
