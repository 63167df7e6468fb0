"""The website chat, end to end: the real assistant, the real page, headless Chromium.

Run: make test-e2e   (or PYTHONPATH=. .venv-rasa/bin/pytest -q tests/e2e/test_website.py)
Needs a trained model (`make model`) and Debian's chromium + chromium-driver.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
import socketio
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.chat_client import ChatClient

QUESTION = "est-ce que notre équipe doit être bilingue ?"
REPLY_TIMEOUT = 40
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
RESULTS = Path(__file__).resolve().parents[2] / "results"
RunningAssistant = Any  # tests/e2e/conftest.py: the `assistant` fixture
XSS = "<img src=x onerror=alert(1)>"


def about_english(text: str) -> bool:
    lowered = text.lower()
    return "bilingue" in lowered or "anglais" in lowered


# --------------------------------------------------------------------------- socket.io protocol


async def test_protocol_session_then_question_and_answer(assistant: RunningAssistant) -> None:
    client = ChatClient()
    await client.connect(assistant.base_url)
    try:
        session_id, token = await client.session({"session_id": None})
        replies = await client.ask(QUESTION)
    finally:
        await client.close()

    assert len(session_id) == 32 and token.startswith("v1.")
    texts = " ".join(reply.get("text", "") for reply in replies)
    assert about_english(texts), replies


async def test_protocol_resume_with_the_token_and_not_without(assistant: RunningAssistant) -> None:
    first = ChatClient()
    await first.connect(assistant.base_url)
    session_id, token = await first.session({})
    await first.close()

    resumed = ChatClient()
    await resumed.connect(assistant.base_url)
    forged = ChatClient()
    await forged.connect(assistant.base_url)
    try:
        again, _ = await resumed.session({"session_id": session_id, "token": token})
        # the reply reaches the resumed socket: it did join the session's room
        replies = await resumed.ask("Bonjour")
        other, _ = await forged.session({"session_id": session_id, "token": token[:-2] + "xx"})
        bare, _ = await forged.session({"session_id": session_id})
    finally:
        await resumed.close()
        await forged.close()

    assert again == session_id
    assert replies and replies[0].get("text")
    assert other != session_id and bare != session_id


async def test_protocol_refuses_an_origin_outside_the_allow_list(assistant: RunningAssistant) -> None:
    intruder = ChatClient()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await intruder.connect(assistant.base_url, origin="https://evil.example")

    listed = ChatClient()
    await listed.connect(assistant.base_url, origin="http://127.0.0.1:5005")
    try:
        session_id, _ = await listed.session({})
    finally:
        await listed.close()
    assert session_id


# --------------------------------------------------------------------------- browser helpers


def wait(driver: WebDriver, timeout: float = REPLY_TIMEOUT) -> WebDriverWait:
    return WebDriverWait(driver, timeout, poll_frequency=0.2)


def bot_texts(driver: WebDriver) -> List[str]:
    return [node.get_attribute("textContent") for node in driver.find_elements(By.CSS_SELECTOR, ".uc-bot .uc-text")]


def user_texts(driver: WebDriver) -> List[str]:
    return [node.get_attribute("textContent") for node in driver.find_elements(By.CSS_SELECTOR, ".uc-user .uc-text")]


def settle(driver: WebDriver, count_before: int) -> List[str]:
    """Wait for the bot's answer (one or more messages) and return the new messages."""
    wait(driver).until(lambda d: len(bot_texts(d)) > count_before)
    stable_since, last = time.monotonic(), len(bot_texts(driver))
    while time.monotonic() - stable_since < 1.5:
        time.sleep(0.2)
        now = len(bot_texts(driver))
        if now != last:
            stable_since, last = time.monotonic(), now
    return bot_texts(driver)[count_before:]


def open_page(driver: WebDriver, assistant: RunningAssistant) -> List[str]:
    """Load the demo page and wait for the greeting (sent by the widget's init payload)."""
    driver.get(assistant.chat_url)
    wait(driver).until(lambda d: d.find_element(By.ID, "urbact-chat-input").is_displayed())
    greeting = settle(driver, 0)
    wait(driver, 10).until(lambda d: d.execute_script("return window.UrbactChat.status().ready"))
    return greeting


def ask(driver: WebDriver, text: str) -> List[str]:
    before = len(bot_texts(driver))
    field = driver.find_element(By.ID, "urbact-chat-input")
    field.send_keys(text)
    field.send_keys(Keys.ENTER)
    return settle(driver, before)


def browser_errors(driver: WebDriver) -> List[str]:
    """Severe console messages of the page (JavaScript errors, CSP violations, failed loads)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def assert_no_alert(driver: WebDriver) -> None:
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - raises when no alert is open


def stored_session(driver: WebDriver) -> Dict[str, Any]:
    return driver.execute_script(
        "var k = Object.keys(sessionStorage).find(function (k) { return k.indexOf('urbact-chat:') === 0; });"
        "return k ? JSON.parse(sessionStorage.getItem(k)) : null;"
    )


# --------------------------------------------------------------------------- browser tests


def test_a_question_gets_the_answer_about_english(browser: WebDriver, assistant: RunningAssistant) -> None:
    greeting = open_page(browser, assistant)
    answer = ask(browser, QUESTION)

    assert greeting, "the widget greets with the init payload"
    assert about_english(" ".join(answer)), answer
    assert user_texts(browser) == [QUESTION]
    status = browser.execute_script("return window.UrbactChat.status()")
    assert status["connected"] and status["transport"] == "websocket", status
    for link in browser.find_elements(By.CSS_SELECTOR, ".uc-log a"):
        assert link.get_attribute("href").startswith(("https://", "http://"))
        assert "noopener" in link.get_attribute("rel")
    assert browser.find_elements(By.CSS_SELECTOR, ".uc-typing-inner:not([hidden])") == []
    assert browser_errors(browser) == []


def test_a_greeting_button_sends_its_payload_and_shows_its_title(
    browser: WebDriver, assistant: RunningAssistant
) -> None:
    open_page(browser, assistant)
    buttons = browser.find_elements(By.CSS_SELECTOR, ".uc-bot button.uc-choice")
    assert len(buttons) >= 2, "the greeting offers buttons"
    title = buttons[0].text
    before = len(bot_texts(browser))

    buttons[0].click()
    answer = settle(browser, before)

    assert user_texts(browser)[-1] == title
    assert answer and all(text.strip() for text in answer)
    assert not any(text.startswith("Désolé, je rencontre un problème technique") for text in answer), answer
    # quick replies are for one turn: the greeting's buttons are gone
    assert all(button not in browser.find_elements(By.CSS_SELECTOR, "button.uc-choice") for button in buttons)


def test_keyboard_only_use(browser: WebDriver, assistant: RunningAssistant) -> None:
    open_page(browser, assistant)
    body = browser.find_element(By.TAG_NAME, "body")
    body.click()

    def active() -> Any:
        return browser.switch_to.active_element

    for _ in range(30):  # Tab to the first suggested answer
        active().send_keys(Keys.TAB)
        if "uc-choice" in (active().get_attribute("class") or ""):
            break
    else:
        pytest.fail("no suggested answer can be reached with Tab")
    title = active().text
    before = len(bot_texts(browser))
    active().send_keys(Keys.ENTER)
    settle(browser, before)
    assert user_texts(browser)[-1] == title
    assert active().get_attribute("id") == "urbact-chat-input"  # focus back in the field

    active().send_keys(Keys.ESCAPE)
    assert not browser.find_element(By.ID, "urbact-chat-panel").is_displayed()
    assert "uc-launcher" in active().get_attribute("class")
    active().send_keys(Keys.ENTER)
    assert browser.find_element(By.ID, "urbact-chat-panel").is_displayed()
    assert active().get_attribute("id") == "urbact-chat-input"


def test_a_reload_keeps_the_conversation(browser: WebDriver, assistant: RunningAssistant) -> None:
    open_page(browser, assistant)
    ask(browser, QUESTION)
    before = stored_session(browser)
    transcript = bot_texts(browser)

    browser.refresh()
    wait(browser).until(lambda d: d.find_element(By.ID, "urbact-chat-input").is_displayed())
    wait(browser, 15).until(lambda d: d.execute_script("return window.UrbactChat.status().ready"))

    assert bot_texts(browser)[: len(transcript)] == transcript
    assert user_texts(browser) == [QUESTION]
    assert stored_session(browser)["sessionId"] == before["sessionId"]
    assert browser.find_elements(By.CSS_SELECTOR, ".uc-note") == [], "the session was resumed"
    answer = ask(browser, "merci")
    assert answer and not answer[0].startswith("Désolé, je rencontre")


def test_html_typed_by_a_user_is_shown_as_text(browser: WebDriver, assistant: RunningAssistant) -> None:
    open_page(browser, assistant)
    ask(browser, XSS)

    assert user_texts(browser)[-1] == XSS
    assert browser.find_elements(By.CSS_SELECTOR, ".uc-root img") == []
    assert browser.execute_script("return document.images.length") == 0
    assert_no_alert(browser)


def test_a_phone_sized_screen(browser: WebDriver, assistant: RunningAssistant) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True},
    )
    open_page(browser, assistant)
    ask(browser, QUESTION)
    RESULTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(RESULTS / "website-mobile.png"))

    geometry = browser.execute_script(
        "var p = document.getElementById('urbact-chat-panel').getBoundingClientRect();"
        "var i = document.getElementById('urbact-chat-input').getBoundingClientRect();"
        "var s = document.querySelector('.uc-send').getBoundingClientRect();"
        "return {vw: window.innerWidth, vh: window.innerHeight, scroll: document.documentElement.scrollWidth,"
        " panel: [p.left, p.right, p.top, p.bottom], input: [i.left, i.right, i.bottom, i.height],"
        " send: [s.right, s.height]};"
    )
    assert geometry["vw"] == 360
    assert geometry["scroll"] <= 360, geometry  # no horizontal scrolling
    left, right, top, bottom = geometry["panel"]
    assert left >= 0 and right <= 360 and top >= 0 and bottom <= geometry["vh"], geometry
    assert geometry["input"][0] >= 0 and geometry["send"][0] <= 360, geometry
    assert geometry["input"][2] <= geometry["vh"], geometry
    assert geometry["input"][3] >= 44 and geometry["send"][1] >= 44, "touch targets of 44 px"


def run_axe(driver: WebDriver) -> List[Dict[str, Any]]:
    driver.set_script_timeout(60)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        "  .then(function (r) { done(r.violations.map(function (v) {"
        "    return {id: v.id, impact: v.impact, help: v.help,"
        "            nodes: v.nodes.map(function (n) { return n.target.join(' ') + ' :: ' + n.failureSummary; })};"
        "  })); })"
        "  .catch(function (e) { done('axe failed: ' + e); });"
    )
    assert isinstance(result, list), result
    return result


def test_axe_finds_no_accessibility_violation(browser: WebDriver, assistant: RunningAssistant) -> None:
    open_page(browser, assistant)
    ask(browser, QUESTION)
    ask(browser, XSS)

    with_conversation = run_axe(browser)
    browser.find_element(By.CSS_SELECTOR, ".uc-close").click()
    with_launcher = run_axe(browser)

    assert with_conversation == [], with_conversation
    assert with_launcher == [], with_launcher
