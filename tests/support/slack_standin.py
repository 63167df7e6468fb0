"""A local stand-in for the Slack Web API, and requests signed the way Slack signs them.

Used by the channel unit tests (.venv-rasa), the hand-off tests (.venv-actions) and the
end-to-end tests: the code under test is pointed at it with SLACK_API_BASE_URL.

The stand-in runs an aiohttp server on 127.0.0.1 in its own thread (so synchronous tests
and another process, such as `rasa run`, can use it) and records every chat.postMessage.
`available = False` makes it answer 503 like a Slack outage; conversations.history returns
the recorded messages of a channel (with their metadata), as Slack does.

Fault scripts: `script(method, Answer(...), ...)` queues the next answers of one Web API
method (an HTTP status, headers such as Retry-After, a delay, and for chat.postMessage
whether the message reaches the channel before the delay, after it, or never); once the
queue is used up the method answers normally again. `calls` lists every call as it arrived
(method, time.monotonic()), scripted or not.

File uploads, as slack_sdk's files_upload_v2 makes them: files.getUploadURLExternal gives an
upload URL on the stand-in, the bytes are POSTed there, files.completeUploadExternal shares
the file in a channel (thread, initial comment): `files` lists the completed uploads, and the
share is also recorded as a message (text = the initial comment, body["files"]), as Slack
shows it. Both methods can be scripted (status and delay).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, Iterator, List, Literal, Optional, Tuple
from urllib.parse import parse_qsl

import pytest
from aiohttp import web


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str,
    body: bytes,
    timestamp: Optional[int] = None,
    content_type: str = "application/json",
    **extra: str,
) -> Dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(secret, ts, body),
    }
    headers.update({key.replace("_", "-"): value for key, value in extra.items()})
    return headers


_event_counter = 0


def event_payload(
    text: str,
    user: str = "U0STAFF1",
    channel: str = "D0STAFFDM",
    channel_type: str = "im",
    event_type: str = "message",
    ts: Optional[str] = None,
    thread_ts: Optional[str] = None,
    bot_user_id: str = "U0URBACTBOT",
    event_id: Optional[str] = None,
) -> Dict[str, Any]:
    """An Events API `event_callback` as Slack sends it (only the fields that matter)."""
    global _event_counter
    _event_counter += 1
    ts = ts or f"{time.time():.6f}"
    event: Dict[str, Any] = {
        "type": event_type,
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if event_type == "message":
        event["channel_type"] = channel_type
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {
        "token": "legacy-verification-token",
        "team_id": "T0URBACT",
        "api_app_id": "A0URBACT",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{int(time.time())}{_event_counter:06d}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": "T0URBACT", "user_id": bot_user_id, "is_bot": True}
        ],
    }


@dataclass
class PostedMessage:
    channel: str
    text: str
    thread_ts: Optional[str]
    ts: str
    token: str
    body: Dict[str, Any] = field(default_factory=dict)


@dataclass
class UploadedFile:
    file_id: str
    filename: str
    title: str
    data: bytes
    channel: str
    thread_ts: Optional[str]
    initial_comment: str
    alt_txt: str


Recording = Literal["after_delay", "before_delay", "never"]


@dataclass(frozen=True)
class Answer:
    """One scripted answer to one call of a Web API method.

    status 200 answers as Slack does; any other status answers `{"ok": false}` with it.
    recorded (chat.postMessage only): "after_delay" (Slack slow to process the post),
    "before_delay" (posted, but the answer is late), "never"; default: "after_delay" for
    status 200, "never" otherwise.
    """

    status: int = 200
    headers: Tuple[Tuple[str, str], ...] = ()  # e.g. (("Retry-After", "2"),)
    delay_seconds: float = 0.0
    recorded: Optional[Recording] = None

    @property
    def recording(self) -> Recording:
        if self.recorded is not None:
            return self.recorded
        return "after_delay" if self.status == 200 else "never"


@dataclass(frozen=True)
class Call:
    method: str  # "chat.postMessage", "conversations.history"...
    at: float  # time.monotonic() when the request arrived (system-wide on Linux)


class SlackStandIn:
    """Fake https://slack.com/api/ on 127.0.0.1 (thread-safe recording)."""

    def __init__(self, token: Optional[str] = None) -> None:
        self.expected_token = token
        self.available = True
        self.delay_seconds = 0.0
        self.refuse_with: Optional[str] = None  # e.g. "invalid_auth": chat.postMessage says no
        self.history_page_size: Optional[int] = None  # smaller pages than asked (pagination)
        self.history_calls = 0
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/api/"
        self._messages: List[PostedMessage] = []
        self._refused = 0
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None
        self._ts_counter = 0
        self.deleted: List[Tuple[str, str]] = []  # (channel, ts) of every chat.delete call
        self._scripts: Dict[str, Deque[Answer]] = {}
        self._calls: List[Call] = []
        self._pending_uploads: Dict[str, Dict[str, Any]] = {}  # file id -> name, length, bytes
        self._files: List[UploadedFile] = []

    # -- recorded calls ---------------------------------------------------------------

    @property
    def messages(self) -> List[PostedMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def refused_calls(self) -> int:
        with self._lock:
            return self._refused

    @property
    def files(self) -> List[UploadedFile]:
        with self._lock:
            return list(self._files)

    def calls(self, method: Optional[str] = None) -> List[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def script(self, method: str, *answers: Answer) -> None:
        """Queue the next answers of `method` (after those already queued)."""
        with self._lock:
            self._scripts.setdefault(method, deque()).extend(answers)

    def _next_answer(self, method: str) -> Optional[Answer]:
        with self._lock:
            self._calls.append(Call(method, time.monotonic()))
            queue = self._scripts.get(method)
            return queue.popleft() if queue else None

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._refused = 0
            self.history_calls = 0
            self._scripts.clear()
            self._calls.clear()
            self._pending_uploads.clear()
            self._files.clear()
        self.refuse_with = None
        self.history_page_size = None

    def reset(self) -> "SlackStandIn":
        """`clear()`, and the stand-in up again without delay (the state a test starts from)."""
        self.clear()
        self.available = True
        self.delay_seconds = 0.0
        return self

    def _met(
        self, predicate: Callable[[List[PostedMessage]], bool], deadline: float, timeout: float
    ) -> Optional[List[PostedMessage]]:
        """The messages once `predicate` holds them, None to wait more; fails after the deadline."""
        messages = self.messages
        if predicate(messages):
            return messages
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"Slack stand-in: condition not met within {timeout} s; got "
                + json.dumps([(m.channel, m.thread_ts, m.text[:80]) for m in messages])
            )
        return None

    def wait_for(
        self,
        predicate: Callable[[List[PostedMessage]], bool],
        timeout: float = 30.0,
        interval: float = 0.1,
    ) -> List[PostedMessage]:
        deadline = time.monotonic() + timeout
        while (messages := self._met(predicate, deadline, timeout)) is None:
            time.sleep(interval)
        return messages

    async def async_wait_for(
        self, predicate: Callable[[List[PostedMessage]], bool], timeout: float = 10.0
    ) -> List[PostedMessage]:
        deadline = time.monotonic() + timeout
        while (messages := self._met(predicate, deadline, timeout)) is None:
            await asyncio.sleep(0.05)
        return messages

    # -- server -----------------------------------------------------------------------

    async def _read(self, request: web.Request) -> Dict[str, Any]:
        raw = await request.read()
        if request.content_type == "application/json":
            return json.loads(raw or b"{}")
        return dict(parse_qsl(raw.decode()))

    def _authorised(self, request: web.Request, body: Dict[str, Any]) -> Tuple[bool, str]:
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer "):] if header.startswith("Bearer ") else str(body.get("token", ""))
        return (self.expected_token is None or token == self.expected_token), token

    @staticmethod
    def _refusal(answer: Answer) -> web.Response:
        error = {429: "ratelimited", 500: "internal_error"}.get(answer.status, "service_unavailable")
        return web.json_response({"ok": False, "error": error}, status=answer.status, headers=dict(answer.headers))

    async def _scripted_post(self, request: web.Request, answer: Answer) -> web.Response:
        body = await self._read(request)
        posted: Optional[Dict[str, Any]] = None
        if answer.recording == "before_delay":
            posted = self._record(request, body)
        await asyncio.sleep(answer.delay_seconds)
        if answer.recording == "after_delay":
            posted = self._record(request, body)
        if answer.status != 200:
            return self._refusal(answer)
        return web.json_response(posted or {"ok": True}, headers=dict(answer.headers))

    async def _post_message(self, request: web.Request) -> web.Response:
        answer = self._next_answer("chat.postMessage")
        if answer is not None:
            return await self._scripted_post(request, answer)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if not self.available:
            with self._lock:
                self._refused += 1
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        body = await self._read(request)
        ok, token = self._authorised(request, body)
        if not ok:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.refuse_with:
            return web.json_response({"ok": False, "error": self.refuse_with})
        if not str(body.get("channel") or ""):
            return web.json_response({"ok": False, "error": "channel_not_found"})
        return web.json_response(self._record(request, body))

    def _record(self, request: web.Request, body: Dict[str, Any]) -> Dict[str, Any]:
        """Adds the message to its channel; returns Slack's answer to chat.postMessage."""
        channel = str(body.get("channel") or "")
        _, token = self._authorised(request, body)
        with self._lock:
            self._ts_counter += 1
            ts = f"{int(time.time())}.{self._ts_counter:06d}"
            self._messages.append(
                PostedMessage(
                    channel=channel,
                    text=str(body.get("text") or ""),
                    thread_ts=body.get("thread_ts"),
                    ts=ts,
                    token=token,
                    body=body,
                )
            )
        return {"ok": True, "channel": channel, "ts": ts}

    async def _history(self, request: web.Request) -> web.Response:
        answer = self._next_answer("conversations.history")
        if answer is not None:
            await asyncio.sleep(answer.delay_seconds)
            if answer.status != 200:
                return self._refusal(answer)
        if not self.available:
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        body = await self._read(request)
        if not body:
            body = dict(request.query)
        channel = str(body.get("channel") or "")
        with self._lock:
            self.history_calls += 1
        found = [
            {"type": "message", "ts": m.ts, "text": m.text, "metadata": m.body.get("metadata")}
            for m in reversed(self.messages)
            if m.channel == channel
        ]
        # Slack's cursor pagination: newest first, `limit` per page, next_cursor while has_more.
        limit = int(body.get("limit") or 100)
        if self.history_page_size:
            limit = min(limit, self.history_page_size)
        offset = int(body.get("cursor") or 0)
        page, has_more = found[offset:offset + limit], offset + limit < len(found)
        answer: Dict[str, Any] = {"ok": True, "messages": page, "has_more": has_more}
        answer["response_metadata"] = {"next_cursor": str(offset + limit) if has_more else ""}
        return web.json_response(answer)

    async def _delete(self, request: web.Request) -> web.Response:
        """chat.delete: removes the bot's message (channel and ts), as Slack does."""
        body = await self._read(request)
        ok, _ = self._authorised(request, body)
        if not ok:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        channel, ts = str(body.get("channel") or ""), str(body.get("ts") or "")
        with self._lock:
            self.deleted.append((channel, ts))
            kept = [m for m in self._messages if not (m.channel == channel and m.ts == ts)]
            found = len(kept) < len(self._messages)
            self._messages[:] = kept
        if not found:
            return web.json_response({"ok": False, "error": "message_not_found"})
        return web.json_response({"ok": True, "channel": channel, "ts": ts})

    async def _auth_test(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "user_id": "U0URBACTBOT", "team_id": "T0URBACT"})

    async def _file_call(self, method: str, request: web.Request) -> Tuple[Optional[web.Response], Dict[str, Any]]:
        """(a refusal or None, the arguments): the scripted failure of `method`, Slack
        unavailable, or a wrong token; arguments from the query string and the body."""
        answer = self._next_answer(method)
        if answer is not None:
            await asyncio.sleep(answer.delay_seconds)
            if answer.status != 200:
                return self._refusal(answer), {}
        if not self.available:
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503), {}
        body = {**dict(request.query), **await self._read(request)}
        if not self._authorised(request, body)[0]:
            return web.json_response({"ok": False, "error": "invalid_auth"}), body
        return None, body

    async def _upload_url(self, request: web.Request) -> web.Response:
        refusal, body = await self._file_call("files.getUploadURLExternal", request)
        if refusal is not None:
            return refusal
        if not body.get("filename") or not str(body.get("length") or "").isdigit():
            return web.json_response({"ok": False, "error": "invalid_arguments"})
        with self._lock:
            self._ts_counter += 1
            file_id = f"F0STANDIN{self._ts_counter:06d}"
            self._pending_uploads[file_id] = {
                "filename": str(body["filename"]), "length": int(body["length"]),
                "alt_txt": str(body.get("alt_txt") or ""), "data": None,
            }
        upload_url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
        return web.json_response({"ok": True, "upload_url": upload_url, "file_id": file_id})

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        file_id = request.match_info["file_id"]
        with self._lock:
            pending = self._pending_uploads.get(file_id)
            if pending is None or pending["length"] != len(data):
                return web.Response(status=400, text="upload refused")
            pending["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _complete_upload(self, request: web.Request) -> web.Response:
        refusal, body = await self._file_call("files.completeUploadExternal", request)
        if refusal is not None:
            return refusal
        shared = json.loads(str(body.get("files") or "[]"))
        with self._lock:
            pendings = [self._pending_uploads.get(str(f.get("id"))) for f in shared]
            if not shared or any(p is None or p["data"] is None for p in pendings):
                return web.json_response({"ok": False, "error": "file_not_found"})
            for entry, pending in zip(shared, pendings):
                assert pending is not None
                self._files.append(UploadedFile(
                    file_id=str(entry["id"]), filename=pending["filename"],
                    title=str(entry.get("title") or pending["filename"]), data=pending["data"],
                    channel=str(body.get("channel_id") or ""), thread_ts=body.get("thread_ts"),
                    initial_comment=str(body.get("initial_comment") or ""), alt_txt=pending["alt_txt"],
                ))
        if body.get("channel_id"):
            share = {"channel": body["channel_id"], "text": body.get("initial_comment") or "",
                     "thread_ts": body.get("thread_ts"), "files": shared}
            self._record(request, share)
        return web.json_response({"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in shared]})

    def start(self) -> "SlackStandIn":
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application()
            app.router.add_post("/api/chat.postMessage", self._post_message)
            app.router.add_route("*", "/api/conversations.history", self._history)
            app.router.add_post("/api/auth.test", self._auth_test)
            app.router.add_post("/api/chat.delete", self._delete)
            app.router.add_post("/api/files.getUploadURLExternal", self._upload_url)
            app.router.add_post("/upload/{file_id}", self._upload)
            app.router.add_post("/api/files.completeUploadExternal", self._complete_upload)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            loop.run_until_complete(site.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="slack-standin", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("Slack stand-in did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> "SlackStandIn":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def standin_fixture(token: str, scope: str = "module") -> Any:
    """A pytest fixture yielding a running stand-in that expects `token`: the fixture's name is
    the module attribute it is assigned to (`slack_api = standin_fixture(TOKEN)`)."""

    @pytest.fixture(scope=scope)
    def running_standin() -> Iterator[SlackStandIn]:
        with SlackStandIn(token=token) as standin:
            yield standin

    return running_standin
