"""Contact questions: the National URBACT Point of a country (France by default)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk.events import FollowupAction

from actions.kb.action import Context, DatabaseAction
from actions.kb.formatting import FRANCE_URL, GET_INVOLVED_URL, button, country_name, in_country
from actions.kb.normalize import country_resolver
from common.text import fold

Events = list[dict[str, Any]]
_COUNTRIES = country_resolver()
# "qui d'autre en France ?", "et en France qui a fait ça ?": a follow-up on the last list.
_FOLLOW_UP = re.compile(r"\b(autres?|qui a fait|qui l'a fait|qui en fait partie)\b")


class ActionContactPoint(DatabaseAction):
    needs_catalogue = False

    def name(self) -> str:
        return "action_contact_point"

    async def answer(self, ctx: Context) -> Events:
        text = fold(str((ctx.tracker.latest_message or {}).get("text") or "")[:300])
        if _FOLLOW_UP.search(text) and ctx.slot("last_query"):
            return [FollowupAction("action_inform")]
        code = "FR"
        for value in ctx.entity_values("country")[:3]:
            res = _COUNTRIES.resolve(value)
            if res.found and res.value:
                code = res.value
                break
        contacts = await ctx.repo.contact_points(code)
        buttons = [
            button("Un appel est-il ouvert ?", "ask_open_calls"),
            button("Financer notre plan d'action", "ask_implementation_funding"),
        ]
        if not contacts:
            ctx.say(
                f"Ma base ne contient pas encore le point de contact pour {country_name(code)}. "
                "Chaque pays a son Point URBACT national ; pour la France, c'est l'ANCT.\n"
                f"Pour en savoir plus : {GET_INVOLVED_URL}",
                buttons,
            )
            return []
        latest = contacts[0]
        text = f"Le Point URBACT national {in_country(code)} : {latest.organisation}."
        if latest.person:
            when = f" en {latest.as_of}" if latest.as_of else ""
            text += f" Contact cité{when} : {latest.person}."
        text += (
            "\nIl organise des journées d'information dans la langue du pays et peut vous aider à "
            "trouver des partenaires ou un réseau."
        )
        text += f"\nPlus d'informations : {latest.url or FRANCE_URL}"
        ctx.say(text, buttons)
        return []
