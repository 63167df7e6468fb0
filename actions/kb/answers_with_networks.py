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

from typing import Any

from actions.kb.action import Context, DatabaseAction
from actions.kb.networks import read_entity, show_search

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


class ActionCountries(_AnswerThenNetworks):
    response = "utter_ask_countries"
    entity = "country"

    def name(self) -> str:
        return "action_countries"


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
