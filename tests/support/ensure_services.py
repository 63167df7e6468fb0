"""Run a command with a PostgreSQL and a Redis answering, starting throwaway ones if needed.

`make test` runs through this: when 127.0.0.1:5432 (PostgreSQL) or 127.0.0.1:6379 (Redis)
does not answer, it starts Debian's server on a free port with its data in a temporary folder
(bot/ops/services.py, shared with make run-production), installs the Debian package first when
it is missing and we are root, or says exactly what to install. The tests find the servers
through TEST_POSTGRES_ADMIN_URL, TEST_POSTGRES_PORT and TEST_REDIS_PORT; everything started
here is stopped when the command ends.

Usage: python -m tests.support.ensure_services -- make test-steps
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from typing import Dict, List

from bot.ops.services import POSTGRES_PORT, REDIS_PORT, serving_ports


def services_env(stack: ExitStack) -> Dict[str, str]:
    """Environment naming the servers to test against, starting the missing ones."""
    (pg_port, _), (redis_port, _) = serving_ports(
        stack,
        int(os.environ.get("TEST_POSTGRES_PORT") or POSTGRES_PORT),
        int(os.environ.get("TEST_REDIS_PORT") or REDIS_PORT),
    )
    return {
        "TEST_POSTGRES_PORT": str(pg_port),
        "TEST_POSTGRES_ADMIN_URL": f"postgresql://postgres@127.0.0.1:{pg_port}/postgres",
        "TEST_POSTGRES_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{pg_port}/postgres",
        "TEST_REDIS_PORT": str(redis_port),
    }


def main(argv: List[str]) -> int:
    command = argv[1:] if argv and argv[0] == "--" else argv
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    with ExitStack() as stack:
        env = {**os.environ, **services_env(stack)}
        return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
