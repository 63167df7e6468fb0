"""Write var/credentials.yml: credentials.yml without the channels we cannot start.

A channel whose ${VAR} placeholders are not all set in the environment is left out, with a
line on stderr saying so (for example Slack when SLACK_TOKEN is unset), so that `make run`
starts without it instead of failing. Prints the path of the file to pass to Rasa.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import yaml

_PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")


def missing_variables(config: Any, environ: Optional[Mapping[str, str]] = None) -> list[str]:
    env = os.environ if environ is None else environ
    text = yaml.safe_dump(config) if config is not None else ""
    return sorted({name for name in _PLACEHOLDER.findall(text) if not env.get(name)})


def usable_channels(channels: Dict[str, Any], environ: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The channels whose variables are all set in `environ` (default: this process's)."""
    usable: Dict[str, Any] = {}
    for name, config in channels.items():
        missing = missing_variables(config, environ)
        if missing:
            print(
                f"Canal {name} non démarré : variable(s) {', '.join(missing)} absente(s).",
                file=sys.stderr,
            )
            continue
        usable[name] = config
    return usable


def main(root: Path = Path(".")) -> Path:
    channels = yaml.safe_load((root / "credentials.yml").read_text(encoding="utf-8")) or {}
    target = root / "var" / "credentials.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(usable_channels(channels), allow_unicode=True), encoding="utf-8")
    return target


if __name__ == "__main__":
    print(main())
