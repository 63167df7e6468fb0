"""prometheus-client's multiprocess mode for the action server's sanic workers.

With ACTION_SERVER_SANIC_WORKERS > 1, sanic forks workers and a scrape reaches one of them:
each worker writes its counts to files in PROMETHEUS_MULTIPROC_DIR and /metrics sums them.
The folder is made fresh at every start (stale files of a former run would add old counts)
and removed when the main process exits; the folders of servers that were killed (SIGKILL,
no clean-up) are removed at the next start, their owner's pid being in their name. This
module needs only the standard library: it runs before prometheus-client is imported (the
library reads the variable at import).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import MutableMapping, Optional

ENV_NAME = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "urbact-actions-metrics-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_orphans(parent: Optional[Path] = None) -> None:
    """Remove the folders left by action servers that no longer run."""
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        owner = folder.name[len(PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def prepare(environ: Optional[MutableMapping[str, str]] = None) -> Path:
    """Create a fresh folder for this run, export it, remove it when this process exits."""
    env = os.environ if environ is None else environ
    owner = os.getpid()
    remove_orphans()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{owner}-"))
    env[ENV_NAME] = str(folder)

    def remove() -> None:
        if os.getpid() == owner:  # forked workers inherit atexit handlers: only the owner cleans
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    return folder
