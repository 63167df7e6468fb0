"""The action server for real (actions/ops/action_server.py): bound to 127.0.0.1, secret required.

Each test starts `python -m actions.ops.action_server` on a free port, as `make run` does, and
calls it over HTTP like Rasa. Also `bot/ops/run.sh` in the production profile without the
secret, and Rasa's own reading of endpoints.yml (through .venv-rasa).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import pytest

from common.action_secret import new_secret
from tests.support.waiting import stop

REPO_ROOT = Path(__file__).resolve().parents[3]

PYTHON = REPO_ROOT / ".venv-actions" / "bin" / "python"
RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"
SECRET = new_secret()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HANDOFF_DELIVERY_LOOP="off")
    env.pop("ACTION_SERVER_TOKEN", None)
    env.update(extra)
    return env


def start(port: int, env: Dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [str(PYTHON), "-m", "actions.ops.action_server", "--actions", "actions", "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def wait_healthy(process: subprocess.Popen, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read().decode(errors="replace"))  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the action server did not start")


@contextlib.contextmanager
def running_server(secret: str) -> Iterator[int]:
    """A real action server on a free port requiring ``secret``; yields its port."""
    port = free_port()
    process = start(port, server_env(ACTION_SERVER_TOKEN=secret))
    try:
        wait_healthy(process, port)
        yield port
    finally:
        stop(process)


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    with running_server(SECRET) as port:
        yield port


def action_call(name: str = "action_staff_list_handoffs") -> bytes:
    tracker = {
        "sender_id": "intrus", "slots": {}, "latest_message": {"text": "demandes en attente"},
        "events": [], "paused": False, "followup_action": None, "active_loop": {},
        "latest_action_name": None, "latest_input_channel": "slack",
    }
    body = {"next_action": name, "sender_id": "intrus", "tracker": tracker, "domain": {},
            "version": "3.6.2"}
    return json.dumps(body).encode()


def post(port: int, header: Optional[str], path: str = "/webhook") -> Tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=action_call(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_call_without_the_secret_is_refused_with_401(server: int) -> None:
    status, body = post(server, None)
    assert status == 401
    assert "secret" in body["error"] and "refusé" in body["error"]
    assert "responses" not in body


@pytest.mark.parametrize(
    "header",
    ["Bearer mauvais-secret-de-32-caracteres!", f"Bearer {SECRET}x", SECRET, f"Basic {SECRET}", "Bearer "],
)
def test_call_with_a_wrong_secret_is_refused_with_403(server: int, header: str) -> None:
    status, body = post(server, header)
    assert status == 403
    assert "incorrect" in body["error"]


def test_list_of_actions_is_refused_too(server: int) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{server}/actions")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_call_with_the_secret_runs_the_action(server: int) -> None:
    status, body = post(server, f"Bearer {SECRET}")
    assert status == 200
    assert body["responses"], body  # the staff action answered (here: reserved to staff)


def test_an_internal_error_does_not_echo_the_tracker(server: int) -> None:
    body = json.dumps({"next_action": "action_submit_handoff", "tracker": {"slots": {
        "handoff_email": "jeanne.secret@ville.fr"}}, "version": "3.6.2"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{server}/webhook", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"},
    )
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(request, timeout=10)
    answer = failed.value.read().decode()
    assert failed.value.code == 500
    assert "jeanne.secret" not in answer and "request_body" not in answer
    assert "Erreur interne" in json.loads(answer)["error"]


def test_unknown_path_is_still_404(server: int) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{server}/nulle-part",
                                     headers={"Authorization": f"Bearer {SECRET}"})
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(request, timeout=10)
    assert missing.value.code == 404


def test_server_listens_on_loopback_only(server: int) -> None:
    addresses = {
        info[4][0]
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        if not info[4][0].startswith("127.")
    }
    listening = subprocess.run(["ss", "-Htln", f"sport = :{server}"], capture_output=True, text=True)
    if listening.returncode == 0 and listening.stdout.strip():
        assert all(line.split()[3].startswith("127.0.0.1:") for line in listening.stdout.splitlines())
    for address in addresses:  # a non-loopback address of this machine: nothing answers there
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex((address, server)) != 0


def test_server_refuses_to_start_without_a_secret() -> None:
    process = start(free_port(), server_env())
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "ACTION_SERVER_TOKEN" in output.decode()


def test_server_refuses_to_start_with_a_short_secret() -> None:
    process = start(free_port(), server_env(ACTION_SERVER_TOKEN="court"))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "au moins 16 caractères" in output.decode()


def test_production_profile_refuses_to_start_without_the_secret(tmp_path: Path) -> None:
    env = server_env(ENDPOINTS="endpoints.production.yml", ACTIONS_PORT=str(free_port()),
                     RASA_PORT=str(free_port()))
    started = subprocess.run(
        [str(REPO_ROOT / "bot/ops/run.sh"), str(tmp_path / "pas-de-modele.tar.gz")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert started.returncode != 0
    assert "ACTION_SERVER_TOKEN" in started.stderr
    assert "Arrêt" not in started.stdout  # nothing was started


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "endpoints.production.yml"])
def test_rasa_sends_the_secret_from_the_endpoints_file(endpoints: str) -> None:
    script = (
        "import json, sys\n"
        "from rasa.utils.endpoints import read_endpoint_config\n"
        f"config = read_endpoint_config({endpoints!r}, 'action_endpoint')\n"
        "print(json.dumps(config.headers))\n"
    )
    env = dict(os.environ, ACTION_SERVER_URL="http://127.0.0.1:1/webhook",
               ACTION_SERVER_TOKEN=SECRET, RASA_TELEMETRY_ENABLED="false")
    env.update({name: "1" for name in (  # the other placeholders of the production profile
        "TRACKER_DB_HOST", "TRACKER_DB_PORT", "TRACKER_DB_NAME", "TRACKER_DB_USER",
        "TRACKER_DB_PASSWORD", "REDIS_HOST", "REDIS_PORT", "REDIS_DB")})
    read = subprocess.run([str(RASA_PYTHON), "-c", script], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert read.returncode == 0, read.stderr[-2000:]
    assert json.loads(read.stdout.strip().splitlines()[-1]) == {"Authorization": f"Bearer {SECRET}"}

    env.pop("ACTION_SERVER_TOKEN")
    unset = subprocess.run([str(RASA_PYTHON), "-c", script], cwd=REPO_ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert unset.returncode != 0
    assert "ACTION_SERVER_TOKEN" in unset.stderr
