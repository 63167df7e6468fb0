"""GET /metrics and GET /health on the Sanic app of every Rasa instance.

Rasa 3.6.21 builds its app in `rasa.core.run.configure_app`, which `serve_application`
(`rasa run`, `rasa shell`) calls through the module's global name: `install()` replaces that
name with a wrapper that adds the two routes to the app it returns, before the server starts.
Neither route needs Rasa's API token: they show no conversation and no secret. nginx keeps
/metrics to the machine (the production topology answers 404 to it from outside).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.observability import health, metrics


def attach(app: Sanic) -> None:
    """Add GET /metrics and GET /health to a Rasa app."""

    async def metrics_route(_request: Request) -> HTTPResponse:
        return response.raw(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)

    async def health_route(request: Request) -> HTTPResponse:
        status, body = await health.health(getattr(request.app.ctx, "agent", None))
        return response.json(body, status=status)

    app.add_route(metrics_route, "/metrics", methods=["GET"], name="urbact_metrics")
    app.add_route(health_route, "/health", methods=["GET"], name="urbact_health")


def _with_routes(stock: Callable[..., Sanic]) -> Callable[..., Sanic]:
    def configure_app(*args: Any, **kwargs: Any) -> Sanic:
        app = stock(*args, **kwargs)
        attach(app)
        return app

    return configure_app


@functools.cache
def install() -> None:
    """Count the metrics and add the routes to the app `rasa run` builds (once per process:
    functools.cache)."""
    import rasa.core.run

    metrics.instrument_rasa()
    rasa.core.run.configure_app = _with_routes(rasa.core.run.configure_app)
