"""A python-socketio client speaking the website widget's protocol, for the tests.

Shared by the website end-to-end tests, the scale-out tests (through nginx) and the shared
Redis integration tests: the server's emits (session_token, session_confirm, bot_uttered)
arrive in a queue, read with `next`; `session` asks for (or resumes) a session and `ask`
sends a message and gathers the turn's replies.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Dict, List, Optional, Tuple

import socketio

REPLY_SECONDS = 40.0  # the first reply of a turn: the model answers within that
MORE_REPLIES_SECONDS = 1.5  # a turn may have several messages: wait that long for the next one


class ChatClient:
    """One visitor's socket, recording what the server emits.

    `transport`: "polling" (the aiohttp pinned by Rasa lacks what python-engineio's websocket
    client needs, unless a test provides it) or "websocket"; `wait_seconds`: how long `next`
    waits by default; `client_options` go to socketio.AsyncClient."""

    def __init__(self, transport: str = "polling", wait_seconds: float = 10.0, **client_options: Any) -> None:
        self.sio = socketio.AsyncClient(reconnection=False, **client_options)
        self.transport = transport
        self.wait_seconds = wait_seconds
        self.events: "asyncio.Queue[Tuple[str, Any]]" = asyncio.Queue()
        for name in ("session_token", "session_confirm", "bot_uttered"):
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Any:
        async def record(data: Any = None) -> None:
            await self.events.put((name, data))

        return record

    async def connect(self, url: str, origin: Optional[str] = None) -> None:
        headers = {"Origin": origin} if origin else {}
        await self.sio.connect(
            url, socketio_path="/socket.io", transports=[self.transport], headers=headers, wait_timeout=10
        )

    async def next(self, name: str, timeout: Optional[float] = None) -> Any:
        """The data of the next `name` event (the others in between are dropped)."""
        while True:
            event, data = await asyncio.wait_for(self.events.get(), self.wait_seconds if timeout is None else timeout)
            if event == name:
                return data

    async def session(self, data: Optional[Dict[str, Any]] = None) -> Tuple[str, str]:
        """(session id, signed token) after a session_request carrying `data`."""
        await self.sio.emit("session_request", data or {})
        token = await self.next("session_token")
        confirmed = await self.next("session_confirm")
        assert isinstance(confirmed, str), "session_confirm carries the session id, as in Rasa"
        assert confirmed == token["session_id"]
        return confirmed, token["token"]

    async def ask(self, text: str) -> List[Dict[str, Any]]:
        """The replies of one turn: the first within REPLY_SECONDS, then all that follow."""
        await self.sio.emit("user_uttered", {"message": text})
        replies = [await self.next("bot_uttered", REPLY_SECONDS)]
        while True:
            try:
                replies.append(await self.next("bot_uttered", MORE_REPLIES_SECONDS))
            except asyncio.TimeoutError:
                return replies

    async def close(self) -> None:
        """Leave at once: a polite disconnect() waits for the pending long-poll (up to 25 s),
        so send the close packet, then stop waiting."""
        eio = self.sio.eio
        loops = [task for task in (eio.read_loop_task, eio.write_loop_task) if task is not None]
        await eio.disconnect(abort=True)
        for task in loops:
            if not task.done():
                task.cancel()
        for task in loops:
            with contextlib.suppress(BaseException):
                await task
