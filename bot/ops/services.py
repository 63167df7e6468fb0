"""A PostgreSQL and a Redis that answer: the machine's own, or ones we start and stop.

`make test` (tests/support/ensure_services.py) and `make run-production` (bot/ops/topology.py)
need both servers. `serving_ports` returns the port of the server answering on 127.0.0.1 (5432,
6379 by default); when none answers it starts Debian's binaries (`postgresql`,
`redis-server`) on a free loopback port, installing the package first when it is missing and
we are root, or says exactly what to install. What it starts is stopped with the ExitStack.

A server started here keeps its data in `root` when given (make run-production: var/, so
conversations survive a restart), else in a temporary folder removed at the end. PostgreSQL
refuses to run as root: as root, its commands run as the `postgres` user (`runuser`).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

POSTGRES_PORT = 5432
REDIS_PORT = 6379


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(port: int, up: bool, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while answers(port) != up:
        if time.monotonic() > deadline:
            raise TimeoutError(f"port {port} still {'closed' if up else 'open'} after {timeout:.0f} s")
        time.sleep(0.1)


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL manque : apt-get install postgresql")
    return Path(found[-1]).parent


def _folder(root: Optional[Path], prefix: str) -> Tuple[Path, bool]:
    """The folder to keep the data in, and whether it is ours to remove at the end."""
    if root is None:
        return Path(tempfile.mkdtemp(prefix=prefix)), True
    root.mkdir(parents=True, exist_ok=True)
    return root, False


class ThrowawayPostgres:
    """`initdb` (once) in `root` or a temporary folder, served on a free port with trust
    authentication."""

    def __init__(self, root: Optional[Path] = None) -> None:
        self.port = free_port()
        self.root, self._temporary = _folder(root, "urbact-pg-")
        self.data = self.root / "data"
        self._bin = postgres_bin()
        self._as_postgres: List[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as_postgres, str(self._bin / tool), *args],
            check=True, capture_output=True, text=True, timeout=60,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> Optional[int]:
        """The postmaster's pid (its children are the server's other processes)."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self) -> None:
        # fsync stays on for data kept in `root` (make run-production); off for throwaway data.
        fsync = "off" if self._temporary else "on"
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync={fsync}"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        wait_for(self.port, up=True)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        wait_for(self.port, up=False)

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def close(self) -> None:
        if answers(self.port):
            mode = "immediate" if self._temporary else "fast"
            subprocess.run(
                [*self._as_postgres, str(self._bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
                capture_output=True, timeout=60,
            )
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)


class ThrowawayRedis:
    """`redis-server` on a free port, keeping nothing on disk."""

    def __init__(self, root: Optional[Path] = None) -> None:
        self.port = free_port()
        self.root, self._temporary = _folder(root, "urbact-redis-")
        self._process: Optional[subprocess.Popen] = None
        self.start()

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self.port, up=True)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=15)
        wait_for(self.port, up=False)

    def close(self) -> None:
        self.stop()
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)


def install(package: str, present: bool, then: str = "relancez la commande") -> None:
    """Install a Debian package when missing (as root), or stop with what to install."""
    if present:
        return
    if os.geteuid() != 0:
        sys.exit(f"{package} manque et ne répond pas sur 127.0.0.1 : lancez "
                 f"'sudo apt-get install {package}', ou démarrez le service, puis {then}.")
    print(f"Installing Debian's {package}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env, stdout=subprocess.DEVNULL)


def postgres_installed() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))


def redis_installed() -> bool:
    return shutil.which("redis-server") is not None or os.path.exists("/usr/bin/redis-server")


def serving_port(
    stack: ExitStack, label: str, port: int, package: str, installed: Callable[[], bool], start: Callable[[], Any]
) -> Tuple[int, Any]:
    """`port` when a server answers there (and None), else the port of a server we start
    (stopped with `stack`) and that server."""
    if answers(port):
        return port, None
    install(package, installed())
    server = start()
    stack.callback(server.close)
    print(f"{label} did not answer on 127.0.0.1:{port}: "
          f"one of ours serves on port {server.port}", flush=True)
    return int(server.port), server


def serving_ports(
    stack: ExitStack, postgres_port: int = POSTGRES_PORT, redis_port: int = REDIS_PORT,
    root: Optional[Path] = None,
) -> Tuple[Tuple[int, Any], Tuple[int, Any]]:
    """((PostgreSQL port, server we started or None), (Redis port, server or None)).

    With `root`, servers we start keep their data in root/postgresql and root/redis."""
    postgres = serving_port(
        stack, "PostgreSQL", postgres_port, "postgresql", postgres_installed,
        lambda: ThrowawayPostgres(root / "postgresql" if root else None),
    )
    redis = serving_port(
        stack, "Redis", redis_port, "redis-server", redis_installed,
        lambda: ThrowawayRedis(root / "redis" if root else None),
    )
    return postgres, redis
