"""The README's layout table matches the tree: every path it names exists, every folder is named."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def layout_rows() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `")]


def named_paths() -> set[str]:
    paths: set[str] = set()
    for row in layout_rows():
        first_cell = row.split("|")[1]
        paths.update(re.findall(r"`([^`]+)`", first_cell))
    return paths


def tracked_folders() -> set[str]:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    folders = set()
    for name in files:
        parts = name.split("/")
        if parts[0] in {"actions", "bot", "common", "data", "tests", "docs", "requirements"} and len(parts) > 1:
            depth = 2 if parts[0] in {"actions", "bot", "tests"} and len(parts) > 2 else 1
            folders.add("/".join(parts[:depth]))
    return folders


def test_every_path_named_in_the_layout_exists() -> None:
    missing = sorted(p for p in named_paths() if not (ROOT / p.rstrip("/")).exists())
    assert not missing, f"README layout names paths that do not exist: {missing}"


def test_every_folder_of_the_tree_is_in_the_layout() -> None:
    named = {p.rstrip("/") for p in named_paths()}

    def covered(folder: str) -> bool:
        return any(folder == n or folder.startswith(n + "/") or n.startswith(folder + "/") for n in named)

    absent = sorted(f for f in tracked_folders() if not covered(f) and "/vendor" not in f)
    assert not absent, f"folders missing from the README layout: {absent}"
