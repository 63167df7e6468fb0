"""GET /health/ready of the action server: does the database answer within a short deadline?

200 {"status": "ok", "checks": {"database": "ok"}}, else 503 {"status": "error", "failed":
["database"], "checks": {"database": "timeout" | "error: <class name>"}}: never the
database's address or an error message (one can hold the connection URL's password).
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, Tuple

DEADLINE_SECONDS = 2.0


async def select_one() -> None:
    from sqlalchemy import text

    from actions.db.engine import shared_engine

    async with shared_engine().connect() as connection:
        await connection.execute(text("SELECT 1"))


async def check(probe: Callable[[], Awaitable[Any]], deadline: float) -> str:
    try:
        await asyncio.wait_for(probe(), timeout=deadline)
    except asyncio.TimeoutError:
        return "timeout"
    except Exception as error:
        return f"error: {type(error).__name__}"
    return "ok"


async def readiness(
    probe: Callable[[], Awaitable[Any]] = select_one, deadline: float = DEADLINE_SECONDS
) -> Tuple[int, Dict[str, Any]]:
    """HTTP status and JSON body of GET /health/ready."""
    result = await check(probe, deadline)
    if result != "ok":
        return 503, {"status": "error", "failed": ["database"], "checks": {"database": result}}
    return 200, {"status": "ok", "checks": {"database": result}}
