"""Which countries take part, and, when one is named, its cities in the knowledge base.

"Des villes norvégiennes dans URBACT ?" or "des partenaires croates possibles ?" ask both
whether the country can take part and which of its cities already do: the fixed answer on
eligibility (`utter_ask_countries`) is followed by the networks with a partner there.
"""

from __future__ import annotations

from typing import Any

from actions.base import Context, DatabaseAction
from actions.networks import read_entity, show_search

Events = list[dict[str, Any]]


class ActionCountries(DatabaseAction):
    def name(self) -> str:
        return "action_countries"

    async def answer(self, ctx: Context) -> Events:
        ctx.messages.append({"response": "utter_ask_countries"})
        country = read_entity(ctx, "country") if ctx.has_entity("country") else None
        if country and country[0] == "country" and country[1].found and country[1].value:
            return await show_search(ctx, {"country": country[1].value})
        return []
