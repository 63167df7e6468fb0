"""Runs Rasa's own FormAction for handoff_form once, against a running action server.

Usage (with .venv-rasa's python, from the repository root, ACTION_SERVER_URL and
ACTION_SERVER_TOKEN set): python tests/support/rasa_form_driver.py
The state: a previous form reached its end with consent, and its submit never ran
(action server down): the slots are still filled when the user asks again.
Prints one JSON line: the form's events (its questions are "bot" events), the slots after
them and the active loop.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, List

from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

STALE: Dict[str, Any] = {
    "handoff_name": "Jeanne Dupont",
    "handoff_organisation": "Mairie de Saint-Aubin",
    "handoff_email": "jeanne@saint-aubin.fr",
    "handoff_question": "Peut-on candidater seuls à un réseau ?",
    "handoff_consent": True,
}


def stale_events() -> List[Event]:
    events: List[Event] = [
        ActionExecuted("action_listen"),
        UserUttered("je voudrais être recontacté", {"name": "request_handoff", "confidence": 1.0}),
        ActionExecuted("handoff_form"),
        ActiveLoop("handoff_form"),
    ]
    events += [SlotSet(name, value) for name, value in STALE.items()]
    events += [
        SlotSet("requested_slot", None),
        ActiveLoop(None),
        # action_submit_handoff failed here (action server down): nothing reset the slots
        ActionExecuted("action_listen"),
        UserUttered("je voudrais être recontacté", {"name": "request_handoff", "confidence": 1.0}),
    ]
    return events


async def main() -> None:
    domain = Domain.load("domain.yml")
    endpoint = read_endpoint_config("endpoints.yml", "action_endpoint")
    tracker = DialogueStateTracker.from_events("rest:t1", stale_events(), slots=domain.slots)
    output = CollectingOutputChannel()  # unused: the processor, not the form, sends "bot" events
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    events = await FormAction("handoff_form", endpoint).run(output, nlg, tracker, domain)
    tracker.update_with_events(events, domain)
    print(json.dumps({
        "events": [event.as_dict() for event in events],
        "slots": {name: tracker.get_slot(name) for name in [*STALE, "handoff_submission_key", "requested_slot"]},
        "active_loop": tracker.active_loop_name,
    }))


if __name__ == "__main__":
    asyncio.run(main())
