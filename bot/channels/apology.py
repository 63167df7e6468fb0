"""Never answer with silence: what every channel says when a turn produced no reply.

If processing fails (an exception, a cancelled task: the action server or the conversation
store is down...) or ends without a reply, the user gets the French apology; a "/restart"
typed by the user (Rasa restarts the conversation and says nothing: the domain has no
utter_restart) gets a French confirmation instead. Used by the REST, website and Slack
channels.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage

logger = logging.getLogger(__name__)

APOLOGY = (
    "Désolé, je rencontre un problème technique et ne peux pas répondre pour le moment. "
    "Réessayez dans un instant ; si cela persiste, le point de contact URBACT France reste "
    "joignable via https://urbact.eu/france-et-luxembourg."
)
RESTARTED = (
    "C'est noté : nous repartons de zéro. Que souhaitez-vous savoir sur URBACT ou sur les "
    "réseaux de villes ?"
)
# Rasa's commands that end in silence by design (ActionRestart says utter_restart only
# when the domain has it; action_session_start says nothing), with or without entities.
SILENT_COMMAND = re.compile(r"/(restart|session_start)(\{.*\})?", re.IGNORECASE | re.DOTALL)


def reply_to_silence(text: Text) -> Text:
    """What to say when processing succeeded without a reply: a confirmation after a
    restart command typed by the user, the apology otherwise."""
    return RESTARTED if SILENT_COMMAND.fullmatch(text.strip()) else APOLOGY


async def answer_turn(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    answered: Callable[[], bool],
    who: Text,
) -> Optional[Text]:
    """Hand the message to Rasa; None when it answered, else the French text to send.

    `answered` tells whether the channel's output sent anything; `who` names the
    conversation in the log lines ("sender …", "session …"), which start with the channel.
    """
    channel = message.input_channel
    failed = False
    try:
        await on_new_message(message)
    except asyncio.CancelledError:
        failed = True
        logger.error("%s: processing cancelled for %s", channel, who)
    except Exception:  # noqa: BLE001 - the user must get an answer anyway
        failed = True
        logger.exception("%s: processing failed for %s", channel, who)
    if answered():
        return None
    answer = APOLOGY if failed else reply_to_silence(message.text or "")
    if answer == APOLOGY:
        logger.error("%s: no reply produced for %s; sent the apology", channel, who)
    else:
        logger.info("%s: restart command for %s; confirmed it", channel, who)
    return answer
