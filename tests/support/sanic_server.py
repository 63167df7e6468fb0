"""A Sanic app with one blueprint, served for real on a free port of 127.0.0.1 (the Rasa
environment has no sanic-testing): for the channel tests, asked with aiohttp."""

from __future__ import annotations

import contextlib
import uuid
from typing import AsyncIterator

from sanic import Blueprint, Sanic

from tests.support.slack_standin import free_port


@contextlib.asynccontextmanager
async def served(blueprint: Blueprint, url_prefix: str) -> AsyncIterator[str]:
    """The server's base URL (http://127.0.0.1:<port>) while the context is open."""
    Sanic.test_mode = True
    app = Sanic(f"test_{uuid.uuid4().hex[:12]}")
    app.blueprint(blueprint, url_prefix=url_prefix)
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()
