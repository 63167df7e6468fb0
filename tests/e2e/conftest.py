"""End-to-end fixtures: the whole assistant, started for real, and a headless Chromium.

`assistant` (session-scoped) starts the action server and `rasa run` with the trained model
on free ports, with the REST and website (socket.io) channels, and stops both at the end.
Other channels reuse the same machinery through `assistant_launcher`:

    @pytest.fixture(scope="session")
    def slack_assistant(assistant_launcher, slack_standin):
        return assistant_launcher(
            extra_credentials={"bot.channels.slack.UrbactSlackInput": {...}},
            extra_env={"SLACK_API_BASE_URL": slack_standin.url},
        )

A missing model is a failure (never a skip): run `make model` first. E2E_MODEL=path/to/model
runs the tests against another model; E2E_START_TIMEOUT (seconds, default 120) bounds start-up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `pytest tests/e2e` from anywhere

from bot.ops.launcher import ROOT, Assistant  # noqa: E402

START_TIMEOUT_SECONDS = float(os.environ.get("E2E_START_TIMEOUT", "120"))
RESULTS = ROOT / "results"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REST_CHANNEL = "bot.channels.rest.FrenchRestInput"
WEBSITE_CHANNEL = "bot.channels.socketio.WebsiteSocketIOInput"


@dataclass
class RunningAssistant:
    """What the tests need to talk to a running assistant: the launched process's addresses,
    ports, environment and logs (base_url, rest_url, rasa_port, actions_port, actions_url,
    env, logs()), its credentials, and the chat page's address."""

    process: Assistant
    credentials: Dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "process":
            raise AttributeError(name)
        return getattr(self.process, name)

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/"


def model_path() -> Path:
    """The model of the current data (bot/ops/model.sh), or E2E_MODEL when set."""
    path = os.environ.get("E2E_MODEL") or subprocess.run(
        [str(ROOT / "bot/ops/model.sh"), "--path"], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    model = ROOT / path
    if not model.is_file():
        pytest.fail(
            f"Pas de modèle entraîné pour l'état actuel des données ({path}). "
            "Lancez `make model` (il entraîne le modèle), puis relancez les tests de bout en bout.",
            pytrace=False,
        )
    return model


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model under test, for tests that load it in-process (see model_path)."""
    return model_path()


def base_credentials() -> Dict[str, Any]:
    """REST and website channels, as in credentials.yml.

    The test server runs on a free port, so its own page is admitted by the channel's
    same-origin-localhost rule, and http://127.0.0.1:5005 by the allow-list.
    """
    website: Dict[str, Any] = {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": True,
        "web_path": "/chat",
        "cors_allowed_origins": ["http://127.0.0.1:5005"],
    }
    return {REST_CHANNEL: None, WEBSITE_CHANNEL: website}


def _report(request: pytest.FixtureRequest, text: str) -> None:
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(text)
    else:  # pragma: no cover - pytest without its terminal
        print(text)


@pytest.fixture(scope="session")
def assistant_launcher(request: pytest.FixtureRequest) -> Iterator[Callable[..., RunningAssistant]]:
    """Start an assistant with extra channels or environment; one per configuration."""
    started: Dict[str, RunningAssistant] = {}

    def launch(
        extra_credentials: Optional[Dict[str, Any]] = None,
        extra_env: Optional[Dict[str, str]] = None,
    ) -> RunningAssistant:
        key = json.dumps([extra_credentials, extra_env], sort_keys=True, default=str)
        if key in started:
            return started[key]
        model = model_path()
        credentials = base_credentials()
        credentials.update(extra_credentials or {})
        env = {"RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)}
        env.update(extra_env or {})
        process = Assistant.launch(model=model, credentials=credentials, extra_env=env)
        running = RunningAssistant(process, credentials)
        started[key] = running
        try:
            process.wait_ready(timeout=START_TIMEOUT_SECONDS)
        except (RuntimeError, TimeoutError) as error:
            pytest.fail(f"L'assistant n'a pas démarré : {error}", pytrace=False)
        return running

    yield launch

    failed = request.session.testsfailed > 0
    RESULTS.mkdir(exist_ok=True)
    for number, running in enumerate(started.values()):
        running.process.stop()
        logs = running.logs()
        (RESULTS / f"e2e-assistant-{number}.log").write_text(logs, encoding="utf-8")
        if failed:
            _report(request, f"\n===== journaux de l'assistant {number} ({running.base_url}) =====\n{logs}")
        shutil.rmtree(running.process.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def assistant(assistant_launcher: Callable[..., RunningAssistant]) -> RunningAssistant:
    """The whole assistant with the REST and website channels."""
    return assistant_launcher()


# --------------------------------------------------------------------------- browser


def chromium_options(user_data_dir: str, width: int = 1280, height: int = 900) -> Any:
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={user_data_dir}",
        f"--window-size={width},{height}",
        "--lang=fr-FR",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@pytest.fixture
def browser() -> Iterator[Any]:
    """A fresh headless Chromium (empty profile) driven by Debian's chromedriver."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(
            "Chromium manque : lancez `bot/ops/ensure_chromium.sh` "
            "(apt-get install chromium chromium-driver).",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="urbact-chromium-")
    # An explicit driver path: Selenium Manager never downloads anything.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=chromium_options(profile))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
