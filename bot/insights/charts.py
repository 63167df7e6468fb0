"""The report's PNG charts, drawn with matplotlib's Agg canvas (no display, no pyplot state).

CHARTS maps each chart's name (its file is `<name>.png`) to its French title:
messages per day, top topics, fallback rate over time.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Callable, Dict, Final, List

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.insights.summary import Insights

CHARTS: Final[Dict[str, str]] = {
    "messages_per_day": "Messages des visiteurs par jour",
    "top_topics": "Sujets les plus demandés",
    "fallback_rate": "Part des messages non compris, par jour",
}
BAR_COLOUR: Final[str] = "#1f5f8b"  # dark blue: contrast above 4.5:1 on white
LINE_COLOUR: Final[str] = "#b3261e"


def _day_labels(insights: Insights) -> List[str]:
    return [day.day.strftime("%d/%m") for day in insights.daily]


def _messages_per_day(figure: Figure, insights: Insights) -> None:
    axes = figure.add_subplot()
    axes.bar(_day_labels(insights), [day.user_messages for day in insights.daily], color=BAR_COLOUR)
    axes.set_ylabel("messages")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole messages only


def _top_topics(figure: Figure, insights: Insights) -> None:
    axes = figure.add_subplot()
    topics = list(reversed(insights.summary["top_topics"]))
    if not topics:
        axes.text(0.5, 0.5, "Aucun sujet sur la période", ha="center", va="center")
        axes.set_axis_off()
        return
    axes.barh([t["topic"] for t in topics], [t["count"] for t in topics], color=BAR_COLOUR)
    axes.set_xlabel("messages")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))


def _fallback_rate(figure: Figure, insights: Insights) -> None:
    axes = figure.add_subplot()
    # No point on a day without messages (a gap, not a misleading 0 %).
    rates = [100 * day.fallback_rate if day.user_messages else math.nan for day in insights.daily]
    axes.plot(_day_labels(insights), rates, marker="o", color=LINE_COLOUR)
    axes.set_ylim(0, 100)
    axes.set_ylabel("% des messages")


_DRAW: Final[Dict[str, Callable[[Figure, Insights], None]]] = {
    "messages_per_day": _messages_per_day,
    "top_topics": _top_topics,
    "fallback_rate": _fallback_rate,
}


def render_chart(insights: Insights, name: str) -> bytes:
    """One chart of CHARTS as PNG bytes; KeyError for an unknown name."""
    figure = Figure(figsize=(8, 4.5 if name != "top_topics" else 5), dpi=100)
    FigureCanvasAgg(figure)
    _DRAW[name](figure, insights)
    figure.suptitle(CHARTS[name])
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_charts(insights: Insights, out_dir: Path) -> Dict[str, Path]:
    """Every chart as out_dir/<name>.png; returns their paths by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: Dict[str, Path] = {}
    for name in CHARTS:
        paths[name] = out_dir / f"{name}.png"
        paths[name].write_bytes(render_chart(insights, name))
    return paths
