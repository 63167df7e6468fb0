"""The report's HTML page, in French: key figures, charts (each with its figures in a table,
for screen readers), topics, myths, cities, networks, missed messages, hand-offs, feedback.

Jinja2 with autoescape: every text from the conversations (already masked) is escaped.
"""

from __future__ import annotations

from datetime import date
from typing import Dict, Final, Mapping

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from actions.topics import label_for
from bot.insights.charts import CHARTS
from bot.insights.summary import Insights

HANDOFF_LABELS: Final[Dict[str, str]] = {
    "pending": "en attente d'envoi",
    "sending": "en cours d'envoi",
    "delivered": "transmises, à traiter",
    "handled": "traitées",
}

TEMPLATE: Final[str] = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>URBACT : ce que demandent les villes ({{ since }} au {{ until }})</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 1rem auto; padding: 0 1rem; color: #1a1a1a; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #767676; padding: 0.25rem 0.6rem; text-align: left; }
td.n { text-align: right; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.25rem; }
img { max-width: 100%; height: auto; }
.chiffres { display: flex; flex-wrap: wrap; gap: 1rem; padding: 0; list-style: none; }
.chiffres li { border: 1px solid #767676; padding: 0.5rem 1rem; }
.chiffres strong { display: block; font-size: 1.5rem; }
</style>
</head>
<body>
<main>
<h1>Ce que demandent les villes, ce que l'assistant manque</h1>
<p>Période : du {{ since }} au {{ until }} (jours UTC). Les adresses e-mail, numéros de téléphone
et noms tapés par les visiteurs sont masqués.</p>

<h2>Chiffres clés</h2>
<ul class="chiffres">
<li><strong>{{ s.conversations }}</strong> conversation(s)</li>
<li><strong>{{ s.user_messages }}</strong> message(s) des visiteurs</li>
<li><strong>{{ percent(s.fallback_rate) }}</strong> de messages non compris</li>
<li><strong>{{ s.feedback.up }}</strong> avis « utile »</li>
<li><strong>{{ s.feedback.down }}</strong> avis « pas utile »</li>
</ul>

<h2>Messages par jour</h2>
<img src="{{ charts.messages_per_day }}" alt="Graphique : {{ chart_titles.messages_per_day }}. Chiffres dans le tableau qui suit.">
<table>
<caption>Messages et messages non compris, par jour</caption>
<thead><tr><th scope="col">Jour</th><th scope="col">Messages</th><th scope="col">Non compris</th></tr></thead>
<tbody>
{% for day in daily %}<tr><th scope="row">{{ day.day.strftime('%d/%m/%Y') }}</th><td class="n">{{ day.user_messages }}</td><td class="n">{{ percent(day.fallback_rate) if day.user_messages else "—" }}</td></tr>
{% endfor %}</tbody>
</table>
<img src="{{ charts.fallback_rate }}" alt="Graphique : {{ chart_titles.fallback_rate }}. Chiffres dans le tableau ci-dessus.">

<h2>Sujets les plus demandés</h2>
<img src="{{ charts.top_topics }}" alt="Graphique : {{ chart_titles.top_topics }}. Chiffres dans le tableau qui suit.">
{{ counted("Sujets", "Sujet", s.top_topics, "topic") }}

<h2>Idées reçues</h2>
<table>
<caption>Idées reçues évoquées</caption>
<thead><tr><th scope="col">Idée reçue</th><th scope="col">Messages</th></tr></thead>
<tbody>
{% for myth, count in s.myths.items() %}<tr><th scope="row">{{ label(myth) }}</th><td class="n">{{ count }}</td></tr>
{% endfor %}</tbody>
</table>

<h2>Villes et réseaux cités</h2>
{{ counted("Villes citées", "Ville", s.asked_cities, "name") }}
{{ counted("Réseaux cités", "Réseau", s.asked_networks, "name") }}

<h2>Messages non compris</h2>
<p>Regroupés quand ils se ressemblent : à revoir pour enrichir les réponses (« make review-export »).</p>
{{ counted("Messages non compris", "Message (un exemple du groupe)", s.unanswered, "text") }}

<h2>Demandes de contact</h2>
<table>
<caption>Demandes transmises au point de contact, par état</caption>
<thead><tr><th scope="col">État</th><th scope="col">Demandes</th></tr></thead>
<tbody>
{% for status, count in s.handoffs.items() %}<tr><th scope="row">{{ handoff_label(status) }}</th><td class="n">{{ count }}</td></tr>
{% else %}<tr><td colspan="2">Aucune demande sur la période.</td></tr>
{% endfor %}</tbody>
</table>
</main>
</body>
</html>
"""

COUNTED: Final[str] = """<table>
<caption>{{ caption }}</caption>
<thead><tr><th scope="col">{{ column }}</th><th scope="col">Messages</th></tr></thead>
<tbody>
{% for row in rows %}<tr><th scope="row">{{ row[key] }}</th><td class="n">{{ row["count"] }}</td></tr>
{% else %}<tr><td colspan="2">Aucun sur la période.</td></tr>
{% endfor %}</tbody>
</table>"""

_ENVIRONMENT = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
_PAGE = _ENVIRONMENT.from_string(TEMPLATE)
_COUNTED = _ENVIRONMENT.from_string(COUNTED)


def percent(rate: float) -> str:
    return f"{100 * rate:.0f} %".replace(".", ",")


def french_date(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def _counted(caption: str, column: str, rows: object, key: str) -> object:
    return Markup(_COUNTED.render(caption=caption, column=column, rows=rows, key=key))


def render_page(insights: Insights, chart_files: Mapping[str, str]) -> str:
    """The page; chart_files maps each chart name to its (relative) address."""
    summary = insights.summary
    return _PAGE.render(
        s=summary, since=french_date(summary["period"]["since"]), until=french_date(summary["period"]["until"]),
        daily=insights.daily, charts=chart_files, chart_titles=CHARTS, percent=percent,
        counted=_counted, label=label_for, handoff_label=lambda status: HANDOFF_LABELS.get(status, status),
    )
