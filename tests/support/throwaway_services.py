"""A real PostgreSQL and a real Redis of the test's own, which the test may stop and start.

The fault tests stop the database under a running assistant; they must not stop the
machine's shared servers (other tests use them). These start Debian's own binaries
(`postgresql`, `redis-server`) on free loopback ports with their data in a temporary folder,
and remove everything on `close()`. PostgreSQL refuses to run as root: as root, its
commands run as the `postgres` user (`runuser`).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

from bot.ops.launcher import free_port


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


class ThrowawayPostgres:
    """`initdb` in a temporary folder, served on a free port with trust authentication."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="urbact-pg-"))
        self.data = self.root / "data"
        self._bin = postgres_bin()
        self._as_postgres: List[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
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

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        wait_for(self.port, up=True)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        wait_for(self.port, up=False)

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def close(self) -> None:
        if answers(self.port):
            subprocess.run(
                [*self._as_postgres, str(self._bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True, timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)


class ThrowawayRedis:
    """`redis-server` on a free port, keeping nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="urbact-redis-"))
        self._process: Optional[subprocess.Popen] = None
        self.start()

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
        shutil.rmtree(self.root, ignore_errors=True)
