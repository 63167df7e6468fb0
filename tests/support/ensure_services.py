"""Run a command with a PostgreSQL and a Redis answering, starting throwaway ones if needed.

`make test` runs through this: when 127.0.0.1:5432 (PostgreSQL) or 127.0.0.1:6379 (Redis)
does not answer, it starts Debian's server on a free port with its data in a temporary folder
(tests/support/throwaway_services.py), installs the Debian package first when it is missing
and we are root, or says exactly what to install. The tests find the servers through
TEST_POSTGRES_ADMIN_URL, TEST_POSTGRES_PORT and TEST_REDIS_PORT; everything started here is
stopped when the command ends.

Usage: python -m tests.support.ensure_services -- make test-steps
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import ExitStack
from typing import Any, Callable, Dict, List

from tests.support.throwaway_services import ThrowawayPostgres, ThrowawayRedis, answers

POSTGRES_PORT = 5432
REDIS_PORT = 6379


def _install(package: str, present: bool) -> None:
    if present:
        return
    if os.geteuid() != 0:
        sys.exit(f"{package} manque et ne répond pas sur 127.0.0.1 : lancez "
                 f"'sudo apt-get install {package}', ou démarrez le service, puis relancez make test.")
    print(f"Installing Debian's {package}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env, stdout=subprocess.DEVNULL)


def _postgres_installed() -> bool:
    import glob

    return bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))


def _serving_port(
    stack: ExitStack, label: str, port: int, package: str, installed: Callable[[], bool], start: Callable[[], Any]
) -> int:
    """`port` when a server answers there, else the port of a throwaway one (stopped with `stack`)."""
    if answers(port):
        return port
    _install(package, installed())
    server = start()
    stack.callback(server.close)
    print(f"{label} did not answer on 127.0.0.1:{port}: "
          f"a throwaway one serves the tests on port {server.port}", flush=True)
    return int(server.port)


def _redis_installed() -> bool:
    return shutil.which("redis-server") is not None or os.path.exists("/usr/bin/redis-server")


def services_env(stack: ExitStack) -> Dict[str, str]:
    """Environment naming the servers to test against, starting the missing ones."""
    pg_port = _serving_port(stack, "PostgreSQL", int(os.environ.get("TEST_POSTGRES_PORT") or POSTGRES_PORT),
                            "postgresql", _postgres_installed, ThrowawayPostgres)
    redis_port = _serving_port(stack, "Redis", int(os.environ.get("TEST_REDIS_PORT") or REDIS_PORT),
                               "redis-server", _redis_installed, ThrowawayRedis)
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
