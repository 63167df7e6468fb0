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
from typing import Dict, List

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


def services_env(stack: ExitStack) -> Dict[str, str]:
    """Environment naming the servers to test against, starting the missing ones."""
    env: Dict[str, str] = {}
    pg_port = int(os.environ.get("TEST_POSTGRES_PORT") or POSTGRES_PORT)
    if not answers(pg_port):
        _install("postgresql", _postgres_installed())
        postgres = ThrowawayPostgres()
        stack.callback(postgres.close)
        print(f"PostgreSQL did not answer on 127.0.0.1:{pg_port}: "
              f"a throwaway one serves the tests on port {postgres.port}", flush=True)
        pg_port = postgres.port
    env["TEST_POSTGRES_PORT"] = str(pg_port)
    env["TEST_POSTGRES_ADMIN_URL"] = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
    env["TEST_POSTGRES_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:{pg_port}/postgres"
    redis_port = int(os.environ.get("TEST_REDIS_PORT") or REDIS_PORT)
    if not answers(redis_port):
        _install("redis-server", shutil.which("redis-server") is not None or os.path.exists("/usr/bin/redis-server"))
        redis = ThrowawayRedis()
        stack.callback(redis.close)
        print(f"Redis did not answer on 127.0.0.1:{redis_port}: "
              f"a throwaway one serves the tests on port {redis.port}", flush=True)
        redis_port = redis.port
    env["TEST_REDIS_PORT"] = str(redis_port)
    return env


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
