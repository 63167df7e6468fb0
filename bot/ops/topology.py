"""The production topology on one machine: nginx in front of several Rasa instances.

    make run-production          (python -m bot.ops.topology; Ctrl-C stops everything)
    with Topology.running(model=path, instances=2) as topology:
        requests go to topology.rest_url (nginx) or topology.instances[i].rest_url (direct)

What runs, all on 127.0.0.1:
- PostgreSQL and Redis: the machine's own when they answer on 5432 / 6379, else ours
  (bot/ops/services.py; make run-production keeps their data in var/production/);
- in PostgreSQL, the conversations database (Rasa's SQL tracker store, endpoints.production.yml)
  and the knowledge-base database, which data/kb is imported into at each launch (idempotent);
- one action server with ACTIONS_WORKERS sanic workers;
- RASA_INSTANCES Rasa instances, each on its own port, sharing the conversations (PostgreSQL),
  their locks (Redis db 1) and the channels' shared state (SHARED_REDIS_URL, Redis db 2), with
  one WEB_SESSION_SECRET (random unless set; written nowhere) and one ACTION_SERVER_TOKEN;
- nginx (Debian's, installed by bot/ops/ensure_nginx.sh when missing) as a child process with
  the configuration rendered from bot/ops/nginx.conf.template (choices explained there).

Every child runs in its own process group: Ctrl-C reaches only this process, which stops nginx
first, then the Rasa instances, then the action server, then the servers it started. A child
that dies is reported; the others keep serving (nginx routes around a dead instance).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import psycopg2
import yaml

from bot.ops.credentials import usable_channels
from bot.ops.launcher import ROOT, current_model
from bot.ops.services import POSTGRES_PORT, REDIS_PORT, free_port, serving_ports
from common import settings
from common.action_secret import ENV_NAME as SECRET_ENV
from common.action_secret import new_secret
from common.json_logs import logging_config_args

TEMPLATE = ROOT / "bot" / "ops" / "nginx.conf.template"
ENDPOINTS = ROOT / "endpoints.production.yml"
PRODUCTION_DIR = ROOT / "var" / "production"
TRACKER_DB = "urbact_tracker"
KB_DB = "urbact_kb"
LOCK_REDIS_DB = 1
SHARED_REDIS_DB = 2
_PLACEHOLDER = re.compile(r"\{\{ (\w+) \}\}")
NGINX_RATE = settings.NGINX_RATE_PER_ADDRESS


def render_nginx(folder: Path, port: int, upstream_ports: List[int], rate_per_second: int) -> str:
    """The nginx configuration: the template with every placeholder filled."""
    limit_zone = limit_req = "# no limit per address (NGINX_RATE_PER_ADDRESS=0)"
    if rate_per_second > 0:
        limit_zone = (f"limit_req_zone $binary_remote_addr zone=per_address:10m rate={rate_per_second}r/s;\n"
                      "    limit_req_status 429;")
        limit_req = f"limit_req zone=per_address burst={rate_per_second * 3} nodelay;"
    values = {
        # As root, the workers run as nobody (nginx's default) and need no write access to
        # `folder`: nginx creates and chowns its temporary folders itself.
        "user_line": "user nobody nogroup;" if os.geteuid() == 0 else "# not root: workers run as us",
        "dir": str(folder),
        "port": str(port),
        "servers": "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in upstream_ports),
        "tries": str(len(upstream_ports)),
        "limit_zone": limit_zone,
        "limit_req": limit_req,
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    missing = sorted(set(_PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise KeyError(f"nginx template placeholders without a value: {missing}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _get(url: str) -> bool:
    with contextlib.suppress(OSError, urllib.error.URLError):
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    return False


def _children(pid: int) -> List[int]:
    """Every descendant of `pid` (sanic workers, nginx workers), read from /proc."""
    parents: Dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [child for child, parent in parents.items() if parent == current]
        found.extend(kids)
        frontier.extend(kids)
    return found


def _spawn(command: List[str], env: Dict[str, str], log: Path) -> subprocess.Popen:
    """A child in its own process group (Ctrl-C reaches only us), output appended to `log`."""
    with open(log, "ab") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(process: Optional[subprocess.Popen], timeout: float = 15) -> None:
    """SIGTERM to the child's process group, SIGKILL after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def postgres_connect(port: int, database: str = "postgres") -> Any:
    return psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=database)


def ensure_database(port: int, name: str) -> None:
    connection = postgres_connect(port)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def _table_exists(port: int, database: str, table: str) -> bool:
    with contextlib.suppress(psycopg2.Error):
        connection = postgres_connect(port, database)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s)", (table,))
                row = cursor.fetchone()
                return row is not None and row[0] is not None
        finally:
            connection.close()
    return False


@dataclass
class Instance:
    """One Rasa instance of the topology (its own port; `rest_url` bypasses nginx)."""

    index: int
    port: int
    command: List[str]
    env: Dict[str, str]
    log: Path
    process: subprocess.Popen = field(init=False)

    def __post_init__(self) -> None:
        self.process = _spawn(self.command, self.env, self.log)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/webhooks/rest/webhook"

    def ready(self) -> bool:
        return _get(f"{self.base_url}/webhooks/rest/")

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"L'instance Rasa {self.index} s'est arrêtée au démarrage (journal : {self.log}).")
            if time.monotonic() > deadline:
                raise TimeoutError(f"L'instance Rasa {self.index} n'a pas démarré en {timeout:.0f} s (journal : {self.log}).")
            time.sleep(0.25)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the instance (default: SIGKILL, as `kill -9`) and wait for its end."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def start(self, timeout: float = 180) -> None:
        """Start the instance again on its port (after a kill) and wait until it answers."""
        if self.process.poll() is None:
            raise RuntimeError(f"L'instance Rasa {self.index} tourne encore.")
        self.process = _spawn(self.command, self.env, self.log)
        self.wait_ready(timeout)

    def stop(self) -> None:
        _stop(self.process)


@dataclass
class Topology:
    """Everything `launch` started; `stop()` stops it all (servers it started included)."""

    workdir: Path
    port: int
    env: Dict[str, str]
    instances: List[Instance]
    actions: subprocess.Popen
    actions_port: int
    nginx: subprocess.Popen
    postgres_port: int
    redis_port: int
    services: contextlib.ExitStack
    server_pids: Dict[str, Optional[int]]
    databases: Dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"{self.url}/webhooks/rest/webhook"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}/webhook"

    # ------------------------------------------------------------------ launch

    @classmethod
    def launch(
        cls,
        model: Optional[Path] = None,
        instances: int = 2,
        *,
        port: int = 0,
        extra_env: Optional[Dict[str, str]] = None,
        workdir: Optional[Path] = None,
        postgres_port: int = POSTGRES_PORT,
        redis_port: int = REDIS_PORT,
        tracker_db: str = TRACKER_DB,
        kb_db: str = KB_DB,
        services_root: Optional[Path] = None,
    ) -> "Topology":
        """Start everything (without waiting for Rasa: see wait_ready). port 0: a free port.

        Servers started because none answered keep their data in `services_root` (None: a
        temporary folder)."""
        model = model or current_model()
        workdir = Path(workdir or tempfile.mkdtemp(prefix="urbact-topology-"))
        workdir.mkdir(parents=True, exist_ok=True)
        _ensure_nginx()
        stack = contextlib.ExitStack()
        try:
            (pg_port, pg_server), (rd_port, rd_server) = serving_ports(stack, postgres_port, redis_port, services_root)
            env = _base_env(extra_env)
            kb_url = f"postgresql+asyncpg://postgres@127.0.0.1:{pg_port}/{kb_db}"
            names = workdir / "kb_names.json"
            ensure_database(pg_port, tracker_db)
            ensure_database(pg_port, kb_db)
            _import_knowledge_base(kb_url, workdir, names, env)
            actions_port = free_port()
            actions = _spawn_actions(actions_port, kb_url, env, workdir)
            stack.callback(_stop, actions)
            rasa_env = _rasa_env(env, pg_port, rd_port, tracker_db, actions_port, names)
            rasa = _spawn_instances(model, instances, rasa_env, workdir, pg_port, tracker_db, stack)
            port = port or free_port()
            nginx = _spawn_nginx(workdir / "nginx", port, [i.port for i in rasa], NGINX_RATE.read(env))
            stack.callback(_stop, nginx)
        except BaseException:
            stack.close()
            raise
        return cls(
            workdir, port, rasa_env, rasa, actions, actions_port, nginx, pg_port, rd_port, stack,
            {"postgresql": pg_server.pid if pg_server else None, "redis": rd_server.pid if rd_server else None},
            {"tracker": tracker_db, "kb": kb_db},
        )

    @classmethod
    @contextlib.contextmanager
    def running(cls, **kwargs: Any) -> Iterator["Topology"]:
        """launch, wait_ready, and stop at the end (also on failure)."""
        topology = cls.launch(**kwargs)
        try:
            topology.wait_ready()
            yield topology
        finally:
            topology.stop()

    def wait_ready(self, timeout: float = 300) -> None:
        """Wait until the action server, every instance and nginx answer."""
        deadline = time.monotonic() + timeout
        while not _get(f"http://127.0.0.1:{self.actions_port}/health"):
            if self.actions.poll() is not None:
                raise RuntimeError(f"Le serveur d'actions s'est arrêté au démarrage.\n{self.logs()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"Le serveur d'actions n'a pas démarré.\n{self.logs()}")
            time.sleep(0.25)
        for instance in self.instances:
            try:
                instance.wait_ready(max(1.0, deadline - time.monotonic()))
            except (RuntimeError, TimeoutError) as error:
                raise type(error)(f"{error}\n{self.logs()}") from None
        while not _get(f"{self.url}/webhooks/rest/"):
            if self.nginx.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx ne répond pas.\n{self.logs()}")
            time.sleep(0.25)

    # ------------------------------------------------------------------ running

    def stop(self) -> None:
        """Stop nginx, the instances, the action server, then the servers we started."""
        _stop(self.nginx)
        for instance in self.instances:
            with contextlib.suppress(ProcessLookupError):
                if instance.process.poll() is None:
                    os.killpg(instance.process.pid, signal.SIGTERM)
        for instance in self.instances:
            instance.stop()
        self.services.close()

    def children(self) -> Dict[str, subprocess.Popen]:
        named = {"nginx": self.nginx, "le serveur d'actions": self.actions}
        named.update({f"l'instance Rasa {i.index}": i.process for i in self.instances})
        return named

    def pids(self) -> Dict[str, List[int]]:
        """The processes of each part, for CPU accounting (servers: their main pid; the
        machine's own servers are found through a connection)."""
        def tree(pid: int) -> List[int]:
            return [pid, *_children(pid)]

        postgres = self.server_pids.get("postgresql") or _postgres_pid(self.postgres_port)
        redis_pid = self.server_pids.get("redis") or _redis_pid(self.redis_port)
        return {
            "nginx": tree(self.nginx.pid),
            "actions": tree(self.actions.pid),
            "rasa": [pid for i in self.instances for pid in tree(i.process.pid)],
            "postgresql": [postgres] if postgres else [],
            "redis": [redis_pid] if redis_pid else [],
        }

    def logs(self, tail: int = 20000) -> str:
        parts = []
        for name in ["actions.log", *(f"rasa-{i.index}.log" for i in self.instances), "nginx/error.log", "nginx.log"]:
            path = self.workdir / name
            if path.exists():
                parts.append(f"===== {name} =====\n" + path.read_text(errors="replace")[-tail:])
        return "\n".join(parts)


# ---------------------------------------------------------------------- parts


def _ensure_nginx() -> None:
    if not (Path("/usr/sbin/nginx").exists() or _which("nginx")):
        subprocess.run([str(ROOT / "bot/ops/ensure_nginx.sh")], check=True)


def _which(name: str) -> Optional[str]:
    import shutil

    return shutil.which(name)


def _base_env(extra_env: Optional[Dict[str, str]]) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", PYTHONPATH=str(ROOT))
    env.update(extra_env or {})
    if not env.get(SECRET_ENV, "").strip():
        env[SECRET_ENV] = new_secret()
    if not env.get("WEB_SESSION_SECRET", "").strip():
        env["WEB_SESSION_SECRET"] = secrets.token_urlsafe(32)  # the same for every instance
    return env


def _import_knowledge_base(kb_url: str, workdir: Path, names: Path, env: Dict[str, str]) -> None:
    """data/kb into the knowledge-base database (idempotent); lookups and names written in
    workdir, never in data/ (data/nlu/lookups.yml is part of the model)."""
    result = subprocess.run(
        [str(ROOT / ".venv-actions/bin/python"), "-m", "actions.ops.import_data", "--database-url", kb_url,
         "--lookups", str(workdir / "lookups.yml"), "--names", str(names)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    (workdir / "import.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        raise RuntimeError(f"L'import de la base de connaissances a échoué :\n{result.stdout}{result.stderr}")


def _spawn_actions(port: int, kb_url: str, env: Dict[str, str], workdir: Path) -> subprocess.Popen:
    actions_env = dict(env)
    actions_env.update(
        DATABASE_URL=kb_url,
        ACTION_SERVER_SANIC_WORKERS=str(settings.ACTIONS_WORKERS.read(env)),
    )
    command = [str(ROOT / ".venv-actions/bin/python"), "-m", "actions.ops.action_server", "--actions", "actions",
               "--port", str(port), *logging_config_args(env)]
    return _spawn(command, actions_env, workdir / "actions.log")


def _rasa_env(env: Dict[str, str], pg_port: int, redis_port: int, tracker_db: str, actions_port: int,
              names: Path) -> Dict[str, str]:
    rasa_env = dict(env)  # ours win over the caller's environment: these servers, these databases
    rasa_env.update(
        ACTION_SERVER_URL=f"http://127.0.0.1:{actions_port}/webhook",
        TRACKER_DB_HOST="127.0.0.1", TRACKER_DB_PORT=str(pg_port), TRACKER_DB_NAME=tracker_db,
        TRACKER_DB_USER="postgres", TRACKER_DB_PASSWORD="",
        REDIS_HOST="127.0.0.1", REDIS_PORT=str(redis_port), REDIS_DB=str(LOCK_REDIS_DB),
        SHARED_REDIS_URL=f"redis://127.0.0.1:{redis_port}/{SHARED_REDIS_DB}",
        SANIC_PROXIES_COUNT="1",
        KB_NAMES_FILE=str(names),
    )
    return rasa_env


def _spawn_instances(model: Path, count: int, env: Dict[str, str], workdir: Path, pg_port: int,
                     tracker_db: str, stack: contextlib.ExitStack) -> List[Instance]:
    """`count` Rasa instances. The first creates the conversations table; the others start
    once it exists (two creating it at once may fail on PostgreSQL's catalogue)."""
    credentials = workdir / "credentials.yml"
    channels = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
    credentials.write_text(yaml.safe_dump(usable_channels(channels, env), allow_unicode=True), encoding="utf-8")
    instances: List[Instance] = []
    for index in range(count):
        port = free_port()
        command = [str(ROOT / ".venv-rasa/bin/python"), "-m", "bot.start", "run", "--model", str(model),
                   "--interface", "127.0.0.1", "--port", str(port), "--credentials", str(credentials),
                   "--endpoints", str(ENDPOINTS), *logging_config_args(env)]
        instance = Instance(index, port, command, env, workdir / f"rasa-{index}.log")
        stack.callback(instance.stop)
        instances.append(instance)
        if index == 0 and count > 1:
            _wait_for_table(instance, pg_port, tracker_db)
    return instances


def _wait_for_table(instance: Instance, pg_port: int, tracker_db: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not _table_exists(pg_port, tracker_db, "events") and time.monotonic() < deadline:
        if instance.process.poll() is not None:
            raise RuntimeError(f"L'instance Rasa 0 s'est arrêtée au démarrage (journal : {instance.log}).")
        time.sleep(0.25)


def _spawn_nginx(folder: Path, port: int, upstream_ports: List[int], rate: int) -> subprocess.Popen:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:  # workers run as nobody: they must reach their temporary folders
        for path in (folder.parent, folder):
            path.chmod(path.stat().st_mode | 0o711)
    config = folder / "nginx.conf"
    config.write_text(render_nginx(folder, port, upstream_ports, rate), encoding="utf-8")
    binary = _which("nginx") or "/usr/sbin/nginx"
    check = subprocess.run([binary, "-t", "-q", "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config)],
                           capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"Configuration nginx refusée ({config}) :\n{check.stderr}")
    return _spawn([binary, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config)], {**os.environ},
                  folder.parent / "nginx.log")


def _postgres_pid(port: int) -> Optional[int]:
    """The postmaster of the server on `port`: the parent of our own backend process."""
    with contextlib.suppress(psycopg2.Error, OSError, ValueError, IndexError):
        connection = postgres_connect(port)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                row = cursor.fetchone()
            stat = Path(f"/proc/{row[0]}/stat").read_text()
            return int(stat.rsplit(")", 1)[1].split()[1])
        finally:
            connection.close()
    return None


def _redis_pid(port: int) -> Optional[int]:
    import redis

    with contextlib.suppress(redis.RedisError, OSError, ValueError, KeyError):
        return int(redis.Redis(host="127.0.0.1", port=port, socket_timeout=2).info("server")["process_id"])
    return None


# ---------------------------------------------------------------------- make run-production


def ready_message(topology: Topology) -> str:
    instances = ", ".join(i.base_url for i in topology.instances)
    workers = settings.ACTIONS_WORKERS.read(topology.env)
    return f"""
L'assistant URBACT est prêt, en topologie de production (journaux : {_shown(topology.workdir)}/).
  Site de démonstration (widget de chat) : {topology.url}/chat/
  REST : curl -s -X POST {topology.rest_url} \\
           -H 'Content-Type: application/json' \\
           -d '{{"sender": "moi", "message": "Bonjour"}}'
  nginx : {topology.url} (répartit entre {len(topology.instances)} instances Rasa)
  Instances Rasa (accès direct, métriques sur /metrics) : {instances}
  Serveur d'actions ({workers} processus) : {topology.actions_url}
  PostgreSQL : 127.0.0.1:{topology.postgres_port} (conversations : {topology.databases['tracker']}, \
base de connaissances : {topology.databases['kb']})
  Redis : 127.0.0.1:{topology.redis_port} (verrous : base {LOCK_REDIS_DB}, état partagé : base {SHARED_REDIS_DB})
  Ctrl-C arrête tout.
"""


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(ROOT))
    return str(path)


def watch(topology: Topology) -> int:
    """Report each child that dies; return 1 when nginx or every instance is gone."""
    reported: set = set()
    while True:
        for name, process in topology.children().items():
            code = process.poll()
            if code is not None and (name, process.pid) not in reported:
                reported.add((name, process.pid))
                print(f"Attention : {name} ne tourne plus (code {code}) ; voir {_shown(topology.workdir)}/.",
                      file=sys.stderr, flush=True)
        if topology.nginx.poll() is not None or all(i.process.poll() is not None for i in topology.instances):
            print("Plus rien ne répond : arrêt de la topologie.", file=sys.stderr, flush=True)
            return 1
        time.sleep(1)


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[List[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bot.ops.topology", description="make run-production")
    parser.add_argument("--model", type=Path, help="trained model (default: the one of the current data)")
    args = parser.parse_args(argv)
    # Ctrl-C and SIGTERM stop everything; SIGINT too when started in the background, where the
    # shell leaves it ignored.
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        instances = settings.RASA_INSTANCES.require()
        settings.ACTIONS_WORKERS.require()
    except settings.SettingError as error:
        print(error, file=sys.stderr)
        return 2
    port = int(os.environ.get("RASA_PORT") or 5005)
    print(f"Démarrage de {instances} instances Rasa derrière nginx (127.0.0.1:{port})...", flush=True)
    topology = Topology.launch(args.model or current_model(), instances, port=port, workdir=PRODUCTION_DIR,
                               services_root=PRODUCTION_DIR)
    try:
        topology.wait_ready()
        print(ready_message(topology), flush=True)
        return watch(topology)
    except KeyboardInterrupt:
        return 0
    finally:
        print("\nArrêt de la topologie...", flush=True)
        topology.stop()


if __name__ == "__main__":
    sys.exit(main())
