"""The metrics of one Rasa instance, counted by wrapping three Rasa 3.6.21 methods.

- `Agent.handle_message` (one user message, lock wait included): turns by channel and their
  latency, from the message's arrival to the answer;
- `MessageProcessor._run_action`: the names of the actions run in the current turn, so
  that a turn answered by a fallback action counts as a fallback answer;
- `RemoteAction.run`: the calls to the action server that failed, by reason.

Each wrapper adds a counter increment and a clock read: no I/O in the turn path. Process
metrics (CPU, memory, open files) come from prometheus-client's default collectors.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from typing import Any, Callable, Optional, Set

from prometheus_client import Counter, Histogram

# The actions that answer when the assistant did not understand (config.yml: the NLU
# fallback rule and the core fallback both run action_rephrase, actions/fallback.py, which
# gives the closest answer as a guess or asks to rephrase; Rasa's own default fallback too).
FALLBACK_ACTIONS = frozenset({"action_rephrase", "action_default_fallback"})

TURNS = Counter("rasa_turns", "User messages handled, by input channel.", ["channel"])
TURN_LATENCY = Histogram(
    "rasa_turn_latency_seconds",
    "Time from a user message's arrival to its answer (conversation lock wait included).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)
FALLBACK_ANSWERS = Counter(
    "rasa_fallback_answers", "Turns answered by a fallback action, by action.", ["action"]
)
ACTION_ERRORS = Counter(
    "rasa_action_server_errors", "Calls to the action server that failed, by reason.", ["reason"]
)

_turn_actions: contextvars.ContextVar[Optional[Set[str]]] = contextvars.ContextVar(
    "urbact_turn_actions", default=None
)


def error_reason(error: BaseException) -> Optional[str]:
    """Why a call to the action server failed; None for a form's rejection (not an error).

    RemoteAction re-raises aiohttp's errors as RasaException: the original is its cause
    or its context."""
    import aiohttp
    from rasa.core.actions.action import ActionExecutionRejection

    if isinstance(error, ActionExecutionRejection):
        return None
    original = error.__cause__ or error.__context__ or error
    if isinstance(original, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "timeout"
    if isinstance(original, aiohttp.ClientConnectionError):
        return "unreachable"
    if isinstance(original, aiohttp.ClientResponseError):
        return "http_error"
    if isinstance(original, aiohttp.ClientError):
        return "client_error"
    if type(original).__name__ == "ValidationError":
        return "invalid_answer"
    return "error"


def record_turn(channel: Optional[str], seconds: float, actions: Set[str]) -> None:
    TURNS.labels(channel=channel or "unknown").inc()
    TURN_LATENCY.observe(seconds)
    fallbacks = sorted(actions & FALLBACK_ACTIONS)
    if fallbacks:
        FALLBACK_ANSWERS.labels(action=fallbacks[0]).inc()


def _timed_turn(stock: Callable[..., Any]) -> Callable[..., Any]:
    async def handle_message(self: Any, message: Any) -> Any:
        started = time.perf_counter()
        actions: Set[str] = set()
        token = _turn_actions.set(actions)
        try:
            return await stock(self, message)
        finally:
            _turn_actions.reset(token)
            record_turn(getattr(message, "input_channel", None), time.perf_counter() - started, actions)

    return handle_message


def _noted_action(stock: Callable[..., Any]) -> Callable[..., Any]:
    async def _run_action(self: Any, action: Any, *args: Any, **kwargs: Any) -> Any:
        actions = _turn_actions.get()
        if actions is not None:
            actions.add(action.name())
        return await stock(self, action, *args, **kwargs)

    return _run_action


def _counted_errors(stock: Callable[..., Any]) -> Callable[..., Any]:
    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await stock(self, *args, **kwargs)
        except Exception as error:
            reason = error_reason(error)
            if reason is not None:
                ACTION_ERRORS.labels(reason=reason).inc()
            raise

    return run


@functools.cache
def instrument_rasa() -> None:
    """Wrap the three methods (once per process: functools.cache)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor

    Agent.handle_message = _timed_turn(Agent.handle_message)
    MessageProcessor._run_action = _noted_action(MessageProcessor._run_action)
    RemoteAction.run = _counted_errors(RemoteAction.run)
