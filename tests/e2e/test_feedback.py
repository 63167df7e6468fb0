"""Visitors' thumbs, end to end: the real page in headless Chromium, the real assistant
recording its events in a SQLite tracker store, read back after the clicks.

Run: make test-e2e (needs a trained model that knows the feedback intent, and Chromium).
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.e2e.conftest import START_TIMEOUT_SECONDS, RunningAssistant, base_credentials, model_path
from tests.e2e.test_website import ask, bot_texts, open_page, settle, wait
from tests.support.recording import recording_assistant as recording

UP_LABEL = "Cette réponse m'a aidé"
DOWN_LABEL = "Cette réponse ne m'a pas aidé"


@pytest.fixture(scope="module")
def recording_assistant() -> Iterator[Tuple[RunningAssistant, Path]]:
    """The assistant with the website channel, its events kept in a SQLite file of its own."""
    folder = Path(tempfile.mkdtemp(prefix="urbact-feedback-"))
    credentials = base_credentials()
    with recording(model_path(), folder, credentials, START_TIMEOUT_SECONDS) as process:
        yield RunningAssistant(process, credentials), folder / "events.db"


@pytest.fixture
def chat(browser: WebDriver, recording_assistant: Tuple[RunningAssistant, Path]) -> Tuple[RunningAssistant, Path]:
    """The demo page open in the browser, its greeting received."""
    open_page(browser, recording_assistant[0])
    return recording_assistant


def recorded_ratings(events: Path, session_id: str) -> List[Any]:
    """The ratings of the feedback messages recorded for one conversation, in order."""
    with sqlite3.connect(events) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' "
            "AND intent_name = 'feedback' ORDER BY id",
            (session_id,),
        ).fetchall()
    ratings = []
    for (data,) in rows:
        entities = json.loads(data)["parse_data"]["entities"]
        ratings.extend(entity["value"] for entity in entities if entity["entity"] == "rating")
    return ratings


def thumbs(driver: WebDriver) -> List[Any]:
    return driver.find_elements(By.CSS_SELECTOR, ".uc-bot .uc-thumb")


def test_thumbs_are_buttons_labelled_in_french(browser: WebDriver, chat: Tuple[RunningAssistant, Path]) -> None:
    buttons = thumbs(browser)
    assert buttons, "the greeting has its thumbs"
    labels = [button.get_attribute("aria-label") for button in buttons[:2]]
    assert labels == [UP_LABEL, DOWN_LABEL]
    assert all(button.tag_name == "button" for button in buttons)
    assert all(button.get_attribute("aria-pressed") == "false" for button in buttons)


def test_a_thumb_is_recorded_once_and_thanked(browser: WebDriver, chat: Tuple[RunningAssistant, Path]) -> None:
    _, events = chat
    answer = ask(browser, "est-ce que notre équipe doit être bilingue ?")
    assert answer
    before = len(bot_texts(browser))
    down = browser.find_elements(By.CSS_SELECTOR, ".uc-bot:last-of-type .uc-thumb-down")[0]
    # keyboard: the thumb takes the focus and Enter presses it
    browser.execute_script("arguments[0].focus()", down)
    assert browser.switch_to.active_element == down
    down.send_keys("\n")
    thanks = settle(browser, before)
    assert thanks == ["Merci pour votre avis !"]
    assert down.get_attribute("aria-pressed") == "true"
    up = down.find_element(By.XPATH, "preceding-sibling::button")
    assert up.get_attribute("aria-pressed") == "false"
    count = len(bot_texts(browser))
    up.click()  # one vote per answer: ignored, nothing is sent
    time.sleep(2)
    assert len(bot_texts(browser)) == count
    assert up.get_attribute("aria-pressed") == "false"
    # the thanks has no thumbs of its own
    assert not browser.find_elements(By.CSS_SELECTOR, ".uc-bot:last-of-type .uc-thumb")

    session_id = browser.execute_script("return window.UrbactChat.status().sessionId")
    wait(browser, 10).until(lambda _: recorded_ratings(events, session_id) == ["down"])
    assert recorded_ratings(events, session_id) == ["down"]


def test_a_forged_rating_is_not_recorded(browser: WebDriver, chat: Tuple[RunningAssistant, Path]) -> None:
    assistant, events = chat
    refusal = ask(browser, '/feedback{"rating":"jean.dupont@example.fr"}')
    assert refusal == ["Avis non reconnu : il n'a pas été enregistré."]
    session_id = browser.execute_script("return window.UrbactChat.status().sessionId")
    assert recorded_ratings(events, session_id) == []
    assert "jean.dupont" not in assistant.logs()
