"""Start the whole assistant (action server + Rasa) as child processes, for tests and benchmarks.

    with Assistant.start(model_path) as assistant:
        requests go to assistant.rest_url

Ports are free ones picked at start; logs go to temporary files that `logs()` returns. The
action server listens on 127.0.0.1 and requires ACTION_SERVER_TOKEN (a random one unless
the environment or extra_env sets it; `env[SECRET_ENV]` holds it).

An endpoints file that records conversations in var/conversations.db (the embedded default)
is copied into the temporary folder with the store moved there: each launched assistant
records in a file of its own (`conversations_url`), never in the repository's var/.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, Optional

import yaml

from bot.insights.store import prepare_sqlite_file
from common.action_secret import ENV_NAME as SECRET_ENV
from common.action_secret import new_secret

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CREDENTIALS: Dict[str, object] = {"bot.channels.rest.FrenchRestInput": None}
RECORDING_LINE = re.compile(r"^(\s+db:\s*)var/conversations\.db\s*$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def current_model() -> Path:
    path = subprocess.run(
        [str(ROOT / "bot/ops/model.sh"), "--path"], check=True, capture_output=True, text=True
    ).stdout.strip()
    model = ROOT / path
    if not model.exists():
        raise RuntimeError(f"Pas de modèle entraîné ({model}) : lancez d'abord `make model`.")
    return model


def own_recording(endpoints: Path, workdir: Path) -> tuple[Path, Optional[Path]]:
    """The endpoints file to start with, and the SQLite file it records in (None: not SQLite).

    When `endpoints` records in var/conversations.db, a copy in workdir records in
    workdir/conversations.db instead (created in WAL mode, as bot/ops/run.sh does)."""
    text = endpoints.read_text(encoding="utf-8")
    if not RECORDING_LINE.search(text):
        return endpoints, None
    recording = workdir / "conversations.db"
    prepare_sqlite_file(recording)
    copy = workdir / "endpoints.yml"
    copy.write_text(RECORDING_LINE.sub(lambda m: f"{m.group(1)}{recording}", text), encoding="utf-8")
    return copy, recording


def spawn_actions(port: int, env: Dict[str, str], workdir: Path) -> subprocess.Popen:
    """The action server as a child process, its output appended to workdir/actions.log."""
    return subprocess.Popen(
        [str(ROOT / ".venv-actions/bin/python"), "-m", "actions.ops.action_server", "--actions", "actions",
         "--port", str(port)],
        cwd=ROOT, env=env, stdout=open(workdir / "actions.log", "ab"), stderr=subprocess.STDOUT,
    )


@dataclass
class Assistant:
    rasa: subprocess.Popen
    actions: subprocess.Popen
    rasa_port: int
    actions_port: int
    workdir: Path
    started_at: float
    env: Dict[str, str] = field(default_factory=dict)
    recording: Optional[Path] = None

    @property
    def conversations_url(self) -> Optional[str]:
        """SQLAlchemy URL of this assistant's recorded conversations (None: not recorded in SQLite)."""
        return f"sqlite:///{self.recording}" if self.recording else None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/webhooks/rest/webhook"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}/webhook"

    def logs(self) -> str:
        parts = []
        for name in ("actions.log", "rasa.log"):
            path = self.workdir / name
            if path.exists():
                parts.append(f"===== {name} =====\n" + path.read_text(errors="replace")[-20000:])
        return "\n".join(parts)

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Wait until Rasa answers on the REST channel; return the seconds since start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc, name in ((self.rasa, "Rasa"), (self.actions, "le serveur d'actions")):
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} s'est arrêté au démarrage.\n{self.logs()}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(f"{self.base_url}/webhooks/rest/", timeout=2) as answer:
                    if answer.status == 200 and self._actions_ready():
                        return time.monotonic() - self.started_at
            time.sleep(0.25)
        raise TimeoutError(f"L'assistant n'a pas démarré en {timeout:.0f} s.\n{self.logs()}")

    def _actions_ready(self) -> bool:
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(f"http://127.0.0.1:{self.actions_port}/health", timeout=2) as answer:
                return answer.status == 200
        return False

    def kill_actions(self) -> None:
        """Kill the action server at once (SIGKILL, as `kill -9`): no clean-up runs."""
        self.actions.kill()
        self.actions.wait(timeout=15)

    def restart_actions(self, timeout: float = 60.0) -> None:
        """Start the action server again on its port, and wait until it answers."""
        self.actions = spawn_actions(self.actions_port, self.env, self.workdir)
        deadline = time.monotonic() + timeout
        while not self._actions_ready():
            if self.actions.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Le serveur d'actions n'a pas redémarré.\n{self.logs()}")
            time.sleep(0.25)

    def stop(self) -> None:
        for proc in (self.rasa, self.actions):
            if proc.poll() is None:
                proc.terminate()
        for proc in (self.rasa, self.actions):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

    @classmethod
    def launch(
        cls,
        model: Optional[Path] = None,
        credentials: Optional[Dict[str, object]] = None,
        endpoints: Path = ROOT / "endpoints.yml",
        extra_env: Optional[Dict[str, str]] = None,
    ) -> "Assistant":
        model = model or current_model()
        workdir = Path(tempfile.mkdtemp(prefix="urbact-assistant-"))
        rasa_port, actions_port = free_port(), free_port()
        creds_path = workdir / "credentials.yml"
        creds_path.write_text(
            yaml.safe_dump(credentials if credentials is not None else DEFAULT_CREDENTIALS),
            encoding="utf-8",
        )
        env = dict(os.environ)
        env.update(
            RASA_TELEMETRY_ENABLED="false",
            PYTHONPATH=str(ROOT),
            ACTION_SERVER_URL=f"http://127.0.0.1:{actions_port}/webhook",
        )
        env.setdefault(SECRET_ENV, new_secret())
        env.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{ROOT / 'var' / 'urbact.db'}")
        env.update(extra_env or {})
        endpoints, recording = own_recording(endpoints, workdir)
        started_at = time.monotonic()
        actions = spawn_actions(actions_port, env, workdir)
        rasa = subprocess.Popen(
            [str(ROOT / ".venv-rasa/bin/python"), "-m", "bot.start", "run", "--model", str(model), "--interface", "127.0.0.1",
             "--port", str(rasa_port), "--credentials", str(creds_path), "--endpoints", str(endpoints)],
            cwd=ROOT, env=env, stdout=open(workdir / "rasa.log", "wb"), stderr=subprocess.STDOUT,
        )
        return cls(rasa, actions, rasa_port, actions_port, workdir, started_at, env, recording)

    @classmethod
    @contextlib.contextmanager
    def running(cls, **kwargs: object) -> Iterator["Assistant"]:
        assistant = cls.launch(**kwargs)  # type: ignore[arg-type]
        try:
            assistant.wait_ready()
            yield assistant
        finally:
            assistant.stop()
