"""Fixed answers completed by the knowledge base when the message names a country or a theme.

- "Des villes norvégiennes dans URBACT ?", "des partenaires croates possibles ?": the answer
  on which countries take part (`utter_ask_countries`), then the networks with a partner in
  the named country, naming its cities.
- "Nos commerces de centre-ville ferment les uns après les autres", "on a un projet de
  tiers-lieu, un réseau pourrait nous aider ?": the brochure's answer on what a network
  brings to a local issue or an existing project, then the networks on that theme.
Without a known country or theme, only the fixed answer is given.
"""

from __future__ import annotations

import re
from typing import Any, Final

from actions.kb.action import Context, DatabaseAction
from actions.kb.formatting import NETWORKS_URL, country_name
from actions.kb.networks import read_entity, show_search
from common.text import fold

Events = list[dict[str, Any]]


class _AnswerThenNetworks(DatabaseAction):
    response: str
    entity: str

    async def answer(self, ctx: Context) -> Events:
        ctx.messages.append({"response": self.response})
        found = read_entity(ctx, self.entity) if ctx.has_entity(self.entity) else None
        if found and found[0] == self.entity and found[1].found and found[1].value:
            return await show_search(ctx, {self.entity: found[1].value})
        return []


# "quels pays sont les plus actifs ?", "combien de pays participent ?" (folded)
_ASKS_WHICH_COUNTRIES_MOST = re.compile(
    r"\b(le plus|les plus|plus actifs?|plus present\w*|plus represente\w*|combien de pays|classement)\b"
)
TOP_COUNTRIES: Final[int] = 6


class ActionCountries(_AnswerThenNetworks):
    response = "utter_ask_countries"
    entity = "country"

    def name(self) -> str:
        return "action_countries"

    async def answer(self, ctx: Context) -> Events:
        events = await super().answer(ctx)
        text = str((ctx.tracker.latest_message or {}).get("text") or "")[:500]
        if not ctx.has_entity("country") and _ASKS_WHICH_COUNTRIES_MOST.search(fold(text)):
            top = await ctx.repo.countries_by_towns(TOP_COUNTRIES)
            if top:
                ranked = ", ".join(f"{country_name(code)} ({count})" for code, count in top)
                ctx.say(f"Dans ma base, les pays qui comptent le plus de villes partenaires : {ranked}. "
                        f"Ma base n'est pas exhaustive ; la liste officielle des réseaux : {NETWORKS_URL}")
        return events


class ActionLocalStrategy(_AnswerThenNetworks):
    response = "utter_benefit_local_strategy"
    entity = "theme"

    def name(self) -> str:
        return "action_local_strategy"


class ActionExistingProjects(_AnswerThenNetworks):
    response = "utter_benefit_existing_projects"
    entity = "theme"

    def name(self) -> str:
        return "action_existing_projects"
