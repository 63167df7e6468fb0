"""rasa-sdk plugin: GET /metrics and GET /health/ready on the action server (see __init__).

Registered by actions/ops/action_server.py after multiprocess.prepare(), like the hand-off
plugin (rasa-sdk 3.6 only discovers plugins in a package named `rasa_sdk_plugins`).
"""

from __future__ import annotations

import sys

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.observability import METRICS_PATH, READY_PATH, health, metrics

hookimpl = pluggy.HookimplMarker("rasa_sdk")


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    """Count every action and add the two routes."""
    metrics.instrument_executor()

    async def metrics_route(_request: Request) -> HTTPResponse:
        body = metrics.render(await metrics.read_backlog())
        return response.raw(body, content_type=metrics.CONTENT_TYPE)

    async def ready_route(_request: Request) -> HTTPResponse:
        status, body = await health.readiness()
        return response.json(body, status=status)

    app.add_route(metrics_route, METRICS_PATH, methods=["GET"], name="urbact_metrics")
    app.add_route(ready_route, READY_PATH, methods=["GET"], name="urbact_ready")


def register(manager: pluggy.PluginManager) -> None:
    """Add this plugin to rasa-sdk's plugin manager (once)."""
    module = sys.modules[__name__]
    if not manager.is_registered(module):
        manager.register(module)
