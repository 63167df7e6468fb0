"""Funding questions: open URBACT calls, the last call, financing the action plan.

The clock is injectable (constructor argument ``clock``) so tests can freeze "today".
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Callable, Optional

from rasa_sdk.events import SlotSet

from actions.kb.action import Context, DatabaseAction
from actions.kb.call_match import calls_of_year, programme_in, top_calls
from actions.kb.formatting import (
    FRANCE_URL,
    GET_INVOLVED_URL,
    button,
    fr_amount,
    fr_date,
    plural,
    remaining_line,
)
from actions.kb.models import FundingCall
from actions.kb.repository import RepositoryFactory
from actions.kb.vocab import PAGE_SIZE
from common.text import fold

Clock = Callable[[], date]
Events = list[dict[str, Any]]


# A call question of at most this many words that names no call ("ça ferme quand ?", "et la
# date limite ?") is about the call of the conversation (slot `last_call`).
MAX_FOLLOW_UP_WORDS = 10
MAX_ALSO_NAMED = 3  # calls of the same name listed after the latest one
_ASKS_WHAT_IS_OPEN = re.compile(r"\bouverts?\b|\ben cours\b")

def national_point_url(contacts: list[Any]) -> str:
    return next((c.url for c in contacts if c.url), FRANCE_URL)


def call_line(call: FundingCall, today: date) -> str:
    if call.is_open(today) and call.closes_on:
        status = f"ouvert jusqu'au {fr_date(call.closes_on)}"
    elif call.opens_on and call.opens_on > today:
        status = f"ouvre le {fr_date(call.opens_on)}"
    elif call.closes_on:
        status = f"clos le {fr_date(call.closes_on)}"
    elif call.opens_on:
        status = f"lancé le {fr_date(call.opens_on)}, date limite non renseignée"
    else:
        status = "dates non renseignées"
    line = f"• {call.name} – {status}"
    if call.max_budget_eur:
        line += f", jusqu'à {fr_amount(call.max_budget_eur)}"
    if call.link:
        line += f" – {call.link}"
    return line


def call_details(call: FundingCall, today: date) -> str:
    """Everything the knowledge base says about one call, in a few lines."""
    dates = []
    if call.opens_on:
        dates.append(f"ouverture le {fr_date(call.opens_on)}")
    if call.closes_on:
        verb = "clôture le" if call.closes_on >= today else "clos le"
        dates.append(f"{verb} {fr_date(call.closes_on)}")
    lines = [f"« {call.name} » ({call.funder}) : " + (", ".join(dates) if dates else "dates non renseignées") + "."]
    if call.eligibility:
        lines.append(f"Qui peut candidater : {call.eligibility}")
    if call.max_budget_eur:
        lines.append(f"Budget maximal : {fr_amount(call.max_budget_eur)}.")
    if call.description:
        lines.append(call.description)
    if call.link:
        lines.append(f"Page de l'appel : {call.link}")
    return "\n".join(lines)


class _FundingAction(DatabaseAction):
    needs_catalogue = False

    def __init__(
        self, repository_factory: Optional[RepositoryFactory] = None, clock: Optional[Clock] = None
    ) -> None:
        super().__init__(repository_factory)
        self.clock: Clock = clock or date.today

    async def named_call(self, ctx: Context) -> Optional[Events]:
        """Answer about the call(s) the message names (by year, funder, kind), or about the
        call of the conversation for a short follow-up ("ça ferme quand ?"); None if none."""
        text = str((ctx.tracker.latest_message or {}).get("text") or "")[:500]
        calls = await ctx.repo.list_calls()
        today = self.clock()
        same_year = calls_of_year(text, calls)
        named = top_calls(text, calls)
        # Several calls of one name and no year ("l'appel interreg europe"): the latest, and
        # the others named after it
        call = named[0] if len(named) == 1 or (named and not same_year) else None
        also = named[1:MAX_ALSO_NAMED + 1] if call is not None else []
        if call is None and len(text.split()) <= MAX_FOLLOW_UP_WORDS and not same_year:
            remembered = ctx.slot("last_call")
            call = next((c for c in calls if isinstance(remembered, str) and c.slug == remembered), None)
            if call is not None and ctx.intent == "ask_open_calls" and _ASKS_WHAT_IS_OPEN.search(fold(text)) \
                    and not (call.is_open(today) or (call.opens_on and call.opens_on > today)):
                call = None  # "et là, un appel est ouvert ?" after a closed call: the overview
        if call is not None:
            details = call_details(call, today)
            if also:
                details += "\nMa base connaît aussi : " + ", ".join(f"« {c.name} »" for c in also) + "."
            ctx.say(details, [button("Un appel est-il ouvert ?", "ask_open_calls")])
            return [SlotSet("last_call", call.slug)]
        if same_year:
            lines = [f"Ma base recense {plural(len(same_year), 'appel', 'appels')} pour cette année-là :"]
            lines += [call_line(c, today) for c in same_year[:PAGE_SIZE]]
            ctx.say("\n".join(lines))
            return [SlotSet("last_call", same_year[0].slug if len(same_year) == 1 else None)]
        return None


class ActionOpenCalls(_FundingAction):
    def name(self) -> str:
        return "action_open_calls"

    async def answer(self, ctx: Context) -> Events:
        named = await self.named_call(ctx)
        if named is not None:
            return named
        today = self.clock()
        open_calls = await ctx.repo.open_calls(today)
        urbact_open = [c for c in open_calls if c.kind == "urbact"]
        other_open = [c for c in open_calls if c.kind != "urbact"]
        lines: list[str] = []
        buttons = [
            button("Qui contacter en France ?", "ask_contact_point", country="France"),
            button("Financer notre plan d'action", "ask_implementation_funding"),
        ]
        # The one URBACT call this answer points to, for "ça ouvre quand exactement ?" next
        focus: Optional[FundingCall] = urbact_open[0] if len(urbact_open) == 1 else None
        if urbact_open:
            lines.append(
                f"Oui : {plural(len(urbact_open), 'appel URBACT est ouvert', 'appels URBACT sont ouverts')} "
                f"en ce moment ({fr_date(today)}) :"
            )
            lines += [call_line(c, today) for c in urbact_open[:PAGE_SIZE]]
            lines.append(f"Tous les détails pour candidater : {GET_INVOLVED_URL}")
        else:
            contacts = await ctx.repo.contact_points("FR")
            last = await ctx.repo.last_closed_calls(today, kind="urbact", limit=1)
            upcoming = await ctx.repo.upcoming_calls(today, kind="urbact")
            lines.append(f"Aucun appel URBACT n'est ouvert aujourd'hui ({fr_date(today)}).")
            if upcoming:
                nxt = focus = upcoming[0]
                lines.append(f"Le prochain annoncé, « {nxt.name} », ouvre le {fr_date(nxt.opens_on)}.")  # type: ignore[arg-type]
            if last and last[0].closes_on:
                lines.append(f"Le dernier, « {last[0].name} », a fermé le {fr_date(last[0].closes_on)}.")
                focus = focus or last[0]
            lines.append(
                f"Pour ne pas manquer le prochain : {GET_INVOLVED_URL} et le Point URBACT national "
                f"(ANCT) : {national_point_url(contacts)}"
            )
            buttons.insert(0, button("Détails du dernier appel", "ask_last_call"))
        if other_open:
            lines.append("Autres financements ouverts en ce moment :")
            lines += [call_line(c, today) for c in other_open[:3]]
        ctx.say("\n".join(lines), buttons)
        return [SlotSet("last_call", focus.slug if focus else None)]


class ActionLastCall(_FundingAction):
    def name(self) -> str:
        return "action_last_call"

    async def answer(self, ctx: Context) -> Events:
        named = await self.named_call(ctx)
        if named is not None:
            return named
        today = self.clock()
        last = await ctx.repo.last_closed_calls(today, kind="urbact", limit=10)
        programme = programme_in(str((ctx.tracker.latest_message or {}).get("text") or ""))
        if programme:  # "le dernier appel d'URBACT III"
            last = [c for c in last if c.name.startswith(programme + " ")] or last
        open_now = await ctx.repo.open_calls(today, kind="urbact")
        lines: list[str] = []
        call = last[0] if last else None
        focus = open_now[0] if len(open_now) == 1 else call
        if call and call.closes_on:
            opened = f", ouvert le {fr_date(call.opens_on)}" if call.opens_on else ""
            lines.append(
                f"Le dernier appel URBACT clos est « {call.name} » : il a fermé le "
                f"{fr_date(call.closes_on)}{opened}."
            )
            if call.description:
                lines.append(call.description)
            if call.link:
                lines.append(f"Page de l'appel : {call.link}")
        else:
            lines.append("Ma base ne contient aucun appel URBACT clos avec une date connue.")
        if open_now:
            lines.append(
                f"Bonne nouvelle : « {open_now[0].name} » est ouvert jusqu'au {fr_date(open_now[0].closes_on)}."  # type: ignore[arg-type]
            )
        else:
            lines.append(f"Aucun appel n'est ouvert aujourd'hui ; suivez les annonces sur {GET_INVOLVED_URL}")
        ctx.say(
            "\n".join(lines),
            [
                button("Un appel est-il ouvert ?", "ask_open_calls"),
                button("Qui contacter en France ?", "ask_contact_point", country="France"),
            ],
        )
        return [SlotSet("last_call", focus.slug if focus else None)]


class ActionImplementationFunding(_FundingAction):
    def name(self) -> str:
        return "action_implementation_funding"

    async def answer(self, ctx: Context) -> Events:
        today = self.clock()
        others = await ctx.repo.list_calls(kind="other")
        contacts = await ctx.repo.contact_points("FR")
        # One line per funder: its open call if any, else its most recent one.
        by_funder: dict[str, FundingCall] = {}
        for call in sorted(others, key=lambda c: (not c.is_open(today),)):
            by_funder.setdefault(call.funder, call)
        picks = sorted(
            by_funder.values(),
            key=lambda c: (not c.is_open(today), -(c.closes_on.toordinal() if c.closes_on else 0)),
        )
        lines = [
            "URBACT ne finance pas la mise en œuvre de votre plan d'action (travaux, investissements) : "
            "il finance les échanges du réseau (rencontres, expertise, préparation du plan). Le plan "
            "vous aide justement à cibler d'autres fonds. Seule nuance : les nouveaux réseaux d'action "
            "URBACT (appel de 2026) donnent à chaque ville un budget pour tester des actions locales.",
        ]
        if picks:
            lines.append("Pistes recensées dans ma base :")
            lines += [call_line(c, today) for c in picks[:PAGE_SIZE]]
            more = remaining_line(len(picks) - PAGE_SIZE)
            if more:
                lines.append(more)
        lines.append(
            f"Pensez aussi aux programmes FEDER de votre région ; le Point URBACT national peut vous orienter : "
            f"{national_point_url(contacts)}"
        )
        ctx.say(
            "\n".join(lines),
            [
                button("Un appel URBACT est-il ouvert ?", "ask_open_calls"),
                button("Qui contacter en France ?", "ask_contact_point", country="France"),
            ],
        )
        return []
