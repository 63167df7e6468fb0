"""Prometheus metrics and a dependency-checking health route on every Rasa instance.

`install()` (called by bot/start.py for `run` and `shell`) adds GET /metrics and GET /health
to the Sanic app Rasa builds (bot/observability/routes.py) and counts turns, their latency,
fallback answers and action server errors (bot/observability/metrics.py). GET /health checks
the tracker store, the lock store and the action server (bot/observability/health.py).
"""

from bot.observability.routes import install

__all__ = ["install"]
