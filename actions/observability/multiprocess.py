"""prometheus-client's multiprocess mode for the action server's sanic workers.

With ACTION_SERVER_SANIC_WORKERS > 1, sanic forks workers and a scrape reaches one of them:
each worker writes its counts to files in PROMETHEUS_MULTIPROC_DIR and /metrics sums them.
The folder is made fresh at every start (stale files of a former run would add old counts)
and removed when the main process exits. This module needs only the standard library: it
runs before prometheus-client is imported (the library reads the variable at import).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import MutableMapping, Optional

ENV_NAME = "PROMETHEUS_MULTIPROC_DIR"


def prepare(environ: Optional[MutableMapping[str, str]] = None) -> Path:
    """Create a fresh folder for this run, export it, remove it when this process exits."""
    env = os.environ if environ is None else environ
    folder = Path(tempfile.mkdtemp(prefix="urbact-actions-metrics-"))
    env[ENV_NAME] = str(folder)
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # forked workers inherit atexit handlers: only the owner cleans
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    return folder
