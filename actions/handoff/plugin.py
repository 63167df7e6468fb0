"""rasa-sdk plugin: the hand-off delivery loop starts and stops with the action server.

rasa-sdk 3.6 calls `attach_sanic_app_extensions(app)` on the plugins its pluggy manager
knows; it only discovers them in a top-level package named `rasa_sdk_plugins`, so
actions/ops/action_server.py registers this module explicitly (`register(plugin_manager())`).
With HANDOFF_DELIVERY_LOOP=off nothing is attached (`python -m actions.ops.deliver_handoffs`
delivers instead).
"""

from __future__ import annotations

import pluggy
from sanic import Sanic

from actions.handoff import loop
from common import settings

hookimpl = pluggy.HookimplMarker("rasa_sdk")


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    """Start the delivery loop after the server starts, stop it before the server stops."""
    if not settings.HANDOFF_DELIVERY_LOOP.read():
        return

    async def start(_app: Sanic, _loop: object) -> None:
        loop.DELIVERY_LOOP.ensure_started()

    async def stop(_app: Sanic, _loop: object) -> None:
        await loop.DELIVERY_LOOP.stop()

    app.listener(start, "after_server_start")
    app.listener(stop, "before_server_stop")


def register(manager: pluggy.PluginManager) -> None:
    """Add this plugin to rasa-sdk's plugin manager (once)."""
    import sys

    module = sys.modules[__name__]
    if not manager.is_registered(module):
        manager.register(module)
