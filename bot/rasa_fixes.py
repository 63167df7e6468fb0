"""Performance fixes for Rasa 3.6.21 internals, applied inside the Rasa process.

`apply()` is called at start-up by bot/start.py (every Rasa command of the project goes
through it) and refuses to run on a Rasa version other than 3.6.21 (bot/rasa_version.py).
Each fix keeps Rasa's behaviour and only removes repeated work; each is tested in
tests/unit/bot/test_rasa_fixes.py and measured in docs/performance.md.

1. Validation of the action server's answers. Rasa validates every answer of a custom
   action with `jsonschema.validate(answer, schema)`, which first checks the schema itself
   against JSON Schema's meta-schema, then builds a validator, on every call. The schema
   (every Rasa event type) is large: under one-user load, py-spy showed 47 % of the Rasa
   process's time in this check. Here the schema is checked once and the validator is
   reused; answers are validated exactly as before (same errors, same message).
2. Reading events back. To rebuild a conversation from the tracker store (every turn, for
   every event), Rasa finds each event's class by walking all subclasses of `Event`
   (`Event.resolve_by_type`); py-spy showed 12 % of the process's time there. Here the
   class found for each type name is remembered; unknown names behave as before.

`apply()` also installs bot/fail_closed.py, which is not about speed: the conversation
store refuses the message instead of handing out an empty conversation when its database
does not answer.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional, Text, Type

from jsonschema import exceptions
from rasa.shared.constants import DOCS_BASE_URL

from bot import fail_closed
from bot.rasa_version import require_supported_rasa

_lock = threading.Lock()
_applied = False
_validator: Optional[Any] = None
_event_classes: Dict[Text, Type[Any]] = {}
_stock_resolve_by_type: Optional[Callable[..., Optional[Type[Any]]]] = None


def _action_response_validator() -> Any:
    global _validator
    if _validator is None:
        from jsonschema.validators import validator_for
        from rasa.core.actions.action import RemoteAction

        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    return _validator


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """Same contract as RemoteAction._validate_action_result, with a reused validator."""
    error = exceptions.best_match(_action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def _resolve_by_type(type_name: Text, default: Optional[Type[Any]] = None) -> Optional[Type[Any]]:
    """Same contract as Event.resolve_by_type, remembering the classes found."""
    cached = _event_classes.get(type_name)
    if cached is not None:
        return cached
    assert _stock_resolve_by_type is not None
    try:
        found = _stock_resolve_by_type(type_name)  # None for "topic", ValueError if unknown
    except ValueError:
        if default is not None:
            return default
        raise
    if found is not None:
        _event_classes[type_name] = found
    return found


def apply() -> None:
    """Install the fixes once per process (idempotent, thread-safe)."""
    global _applied
    with _lock:
        if _applied:
            return
        require_supported_rasa("bot/rasa_fixes.py")
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.core.events import Event

        global _stock_resolve_by_type
        RemoteAction._validate_action_result = _validate_action_result
        _stock_resolve_by_type = Event.resolve_by_type
        Event.resolve_by_type = staticmethod(_resolve_by_type)
        fail_closed.apply()
        _applied = True
