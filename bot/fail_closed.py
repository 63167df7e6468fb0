"""The conversation store fails closed: no message is handled on an empty conversation.

Rasa 3.6.21 wraps every tracker store in `FailSafeTrackerStore` (rasa/core/agent.py). When
the database does not answer, that wrapper logs the error and hands out a new, empty
conversation (`retrieve` returns None), then keeps the turn in memory only (`save` falls
back to an `InMemoryTrackerStore`). The visitor is then answered by an assistant that has
forgotten everything (a hand-off form in progress included), and what was said is lost
when the database comes back.

Here both error hooks of that wrapper raise `ConversationStoreUnavailable` instead: the
message is not handled, the channel answers with its French apology (bot/channels), the
operators get one log line without the sender or any text, and once the database answers
again the conversation goes on where it was.

The SQL store's engine also checks each pooled connection before use (`pool_pre_ping`), so
the first message after a database restart is answered instead of failing on a connection
the restart closed, and hides statement parameters (the events' JSON holds what people
typed) from errors and logs (`hide_parameters`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, Optional, Text

from bot.rasa_version import require_supported_rasa

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_applied = False
_stock_engine_kwargs: Optional[Callable[[Any], Dict[Text, Any]]] = None


class ConversationStoreUnavailable(RuntimeError):
    """The conversation store did not answer: the message must not be handled."""


def describe(error: BaseException) -> Text:
    """The error's class and the first line of its message: no statement, no parameters."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line[:200]}" if first_line else type(error).__name__


def refuse(store: Any, error: Exception) -> None:
    """Error hook of FailSafeTrackerStore: log one line, then refuse the message."""
    logger.error(
        "Stockage des conversations injoignable (%s) : message refusé, rien n'est gardé en mémoire à la place.",
        describe(error),
    )
    raise ConversationStoreUnavailable(describe(error)) from None


def engine_kwargs(url: Any) -> Dict[Text, Any]:
    """Rasa's engine arguments, plus a liveness check per connection and hidden parameters."""
    assert _stock_engine_kwargs is not None
    kwargs = dict(_stock_engine_kwargs(url))
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("hide_parameters", True)
    return kwargs


def apply() -> None:
    """Install the fail-closed hooks once per process (idempotent, thread-safe)."""
    global _applied, _stock_engine_kwargs
    with _lock:
        if _applied:
            return
        require_supported_rasa("bot/fail_closed.py")
        from rasa.core import tracker_store

        tracker_store.FailSafeTrackerStore.on_tracker_store_error = refuse
        tracker_store.FailSafeTrackerStore.on_tracker_store_retrieve_error = refuse
        _stock_engine_kwargs = tracker_store.create_engine_kwargs
        tracker_store.create_engine_kwargs = engine_kwargs
        _applied = True
