"""Start Rasa with our fixes applied: `python -m bot.start <rasa arguments>`.

Every way this project starts Rasa goes through here (bot/ops/run.sh, the Makefile's
`$(RASA)`, bot/ops/launcher.py) or calls `prepare()` before loading a model in-process.
`prepare()` hides the known deprecation warnings of third-party libraries (ours still
show), checks the Rasa version (bot/rasa_version.py) and applies bot/rasa_fixes.py.
`rasa run` and `rasa shell` also get GET /metrics and GET /health (bot/observability/), and
JSON log lines with LOG_FORMAT=json (common/json_logs.py's logging configuration, added
to the arguments unless another `--logging-config-file` is given).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any, List, Mapping, Optional

import pluggy

from common import json_logs

# Third-party packages whose deprecation warnings at start-up are known and not ours to fix.
KNOWN_NOISY_PACKAGES = (
    "apscheduler",
    "jax",
    "keras",
    "matplotlib",
    "packaging",
    "pkg_resources",
    "rasa",
    "sanic",
    "sanic_cors",
    "sqlalchemy",
    "tensorflow",
)
NOISY_MODULES = r"(%s)(\.|$)" % "|".join(KNOWN_NOISY_PACKAGES)


def quiet_known_warnings() -> None:
    """Ignore deprecation warnings raised from the known third-party packages only.

    Sanic installs a filter that shows every DeprecationWarning once when it is imported,
    in front of the others; it is imported first so that these filters come before it.
    TensorFlow's C++ start-up notes are silenced as Rasa itself does after its imports.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import sanic  # noqa: F401  (see above)

    for category in (DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=NOISY_MODULES)


def prepare() -> None:
    """What must happen in a Rasa process before Rasa loads a model or a channel."""
    quiet_known_warnings()
    from bot import rasa_fixes

    rasa_fixes.apply()


SERVING_COMMANDS = frozenset({"run", "shell"})


class _QuietAgainAfterRasa:
    """Rasa's CLI puts its own warning filters first (one shows every UserWarning once, and
    pyparsing's deprecations are UserWarnings too), then calls this hook: ours go first again.

    Rasa also installs its coloured log handler after reading `--logging-config-file`: with
    the JSON configuration (common/json_logs.py), it is replaced by the JSON one again here."""

    @pluggy.HookimplMarker("rasa")
    def configure_commandline(self, cmdline_arguments: Any) -> None:
        quiet_known_warnings()
        if is_json_logging_config(getattr(cmdline_arguments, "logging_config_file", None)):
            json_logs.apply_json_logging()


def is_json_logging_config(path: Optional[str]) -> bool:
    return bool(path) and Path(str(path)).resolve() == json_logs.CONFIG_FILE


def with_log_format(arguments: List[str], environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """LOG_FORMAT=json is enough, whoever starts Rasa: an explicit configuration file wins."""
    if "--logging-config-file" in arguments:
        return arguments
    return arguments + json_logs.logging_config_args(environ)


def seed_cross_validation(arguments: List[str], environ: Optional[Mapping[str, str]] = None) -> bool:
    """`rasa test nlu --cross-validation` draws its folds with NumPy's global generator
    (StratifiedKFold without a seed, Rasa 3.6): with URBACT_CV_SEED set (bot/ops/nlu_report.py
    sets it), that generator is seeded first, so the same data always gets the same folds."""
    seed = (os.environ if environ is None else environ).get("URBACT_CV_SEED", "")
    if arguments[:2] != ["test", "nlu"] or "--cross-validation" not in arguments or not seed.isdigit():
        return False
    import numpy as np

    np.random.seed(int(seed))
    return True


def main(argv: Optional[List[str]] = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in SERVING_COMMANDS and json_logs.json_logs_wanted():
        # TensorFlow's C++ side writes its INFO and WARNING lines ("TF-TRT Warning: Could not
        # find TensorRT") to stderr as plain text, outside Python's logging: with JSON logs
        # they are hidden (set before TensorFlow is imported), so every line stays JSON. A
        # lower level inherited from the caller (Rasa in-process sets one) does not win.
        if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") not in {"2", "3"}:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    prepare()
    seed_cross_validation(arguments)
    from rasa.__main__ import main as rasa_main
    from rasa.plugin import plugin_manager

    plugin_manager().register(_QuietAgainAfterRasa())
    if arguments and arguments[0] in SERVING_COMMANDS:
        from bot import observability

        observability.install()
        arguments = with_log_format(arguments)
    sys.argv = ["rasa", *arguments]
    rasa_main()


if __name__ == "__main__":
    main()
