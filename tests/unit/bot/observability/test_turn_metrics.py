"""bot/observability/metrics.py: turns, fallback answers and action server errors counted."""

from __future__ import annotations

import asyncio
from typing import Any, List

import aiohttp
from prometheus_client import REGISTRY
from rasa.core.actions.action import ActionExecutionRejection
from rasa.shared.exceptions import RasaException

from bot.observability import metrics


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels or None) or 0.0


def rasa_style(original: BaseException) -> RasaException:
    """What RemoteAction.run raises: a RasaException raised while handling the original."""
    try:
        try:
            raise original
        except Exception:
            raise RasaException("Failed to execute custom action")
    except RasaException as error:
        return error


def test_reasons_of_failed_action_calls() -> None:
    reason = metrics.error_reason
    assert reason(rasa_style(aiohttp.ClientConnectionError())) == "unreachable"
    assert reason(rasa_style(aiohttp.ServerTimeoutError())) == "timeout"
    assert reason(asyncio.TimeoutError()) == "timeout"
    response_error = aiohttp.ClientResponseError(None, (), status=500)  # type: ignore[arg-type]
    assert reason(rasa_style(response_error)) == "http_error"
    assert reason(ActionExecutionRejection("validate_handoff_form")) is None
    assert reason(RuntimeError()) == "error"


class FakeProcessor:
    """Stands for Rasa's processor: runs the named actions as Rasa's would, one by one."""

    def __init__(self, action_names: List[str]) -> None:
        self.action_names = action_names

    async def _run_action(self, action: Any) -> bool:
        return True

    async def handle_message(self, message: Any) -> list:
        for name in self.action_names:
            action = type("Action", (), {"name": lambda self, n=name: n})()
            await self.noted(self, action)
        return []


async def turn(action_names: List[str], channel: str) -> None:
    processor = FakeProcessor(action_names)
    processor.noted = metrics._noted_action(FakeProcessor._run_action)  # type: ignore[attr-defined]

    async def stock(_agent: Any, message: Any) -> list:
        return await processor.handle_message(message)

    message = type("UserMessage", (), {"input_channel": channel})()
    await metrics._timed_turn(stock)(object(), message)


async def test_a_turn_is_counted_with_its_latency_and_a_fallback_answer_once() -> None:
    turns = sample("rasa_turns_total", channel="test-channel")
    latencies = sample("rasa_turn_latency_seconds_count")
    fallbacks = sample("rasa_fallback_answers_total", action="action_rephrase")

    await turn(["action_listen", "utter_greet"], "test-channel")
    assert sample("rasa_turns_total", channel="test-channel") == turns + 1
    assert sample("rasa_turn_latency_seconds_count") == latencies + 1
    assert sample("rasa_fallback_answers_total", action="action_rephrase") == fallbacks

    await turn(["action_rephrase", "action_rephrase", "action_listen"], "test-channel")
    assert sample("rasa_turns_total", channel="test-channel") == turns + 2
    assert sample("rasa_fallback_answers_total", action="action_rephrase") == fallbacks + 1


async def test_an_action_outside_a_turn_is_not_an_error() -> None:
    action = type("Action", (), {"name": lambda self: "action_rephrase"})()
    assert await metrics._noted_action(FakeProcessor._run_action)(FakeProcessor([]), action) is True


async def test_failed_calls_are_counted_and_raised_again() -> None:
    before = sample("rasa_action_server_errors_total", reason="unreachable")

    async def unreachable(_self: Any) -> None:
        raise rasa_style(aiohttp.ClientConnectionError())

    async def rejected(_self: Any) -> None:
        raise ActionExecutionRejection("validate_handoff_form")

    for stock in (unreachable, rejected):
        try:
            await metrics._counted_errors(stock)(object())
        except RasaException:
            pass
        else:
            raise AssertionError("the error must go on to Rasa")
    assert sample("rasa_action_server_errors_total", reason="unreachable") == before + 1
