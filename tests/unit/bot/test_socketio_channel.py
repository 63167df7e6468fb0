"""Unit tests of the website socket.io channel (bot/channels/socketio.py and web_*.py).

Run from the repository root: PYTHONPATH=. .venv-rasa/bin/pytest tests/unit/bot
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest

from bot.channels import web_assets
from bot.channels.apology import APOLOGY
from bot.channels.socketio import WebsiteSocketIOInput
from bot.channels.validation import MAX_MESSAGE_CHARS, InvalidInput
from bot.channels.web_handlers import SessionHandlers, WebsiteOutput, parse_user_message
from bot.channels.web_origins import OriginConfigError, OriginPolicy, allowed_origins_from, parse_allowed_origins
from bot.channels.web_sessions import SessionSigner, new_session_id, resolve_session, signer_from_environment

SECRET = b"0123456789abcdef0123456789abcdef"


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeSio:
    """Records emits and room membership like python-socketio's AsyncServer.

    enter_room/leave_room are coroutines, as in python-socketio >= 5.10: a handler that
    forgets to await them leaves the socket outside the room (and Python warns).
    """

    def __init__(self) -> None:
        self.rooms: Dict[str, Set[str]] = defaultdict(set)
        self.emitted: List[Tuple[str, Any, Optional[str]]] = []

    async def enter_room(self, sid: str, room: str, namespace: Optional[str] = None) -> None:
        self.rooms[sid].add(room)

    async def leave_room(self, sid: str, room: str, namespace: Optional[str] = None) -> None:
        self.rooms[sid].discard(room)

    async def emit(
        self, event: str, data: Any = None, room: Optional[str] = None, namespace: Optional[str] = None, **_: Any
    ) -> None:
        self.emitted.append((event, data, room))

    def events(self, name: str) -> List[Tuple[Any, Optional[str]]]:
        return [(data, room) for event, data, room in self.emitted if event == name]


def make_handlers(reply: Optional[str] = "Bonjour !", fail: bool = False, **kwargs: Any):
    sio = FakeSio()
    received: List[Any] = []

    async def on_new_message(message: Any) -> None:
        received.append(message)
        if fail:
            raise RuntimeError("action server down")
        if reply is not None:
            await message.output_channel.send_text_message(message.sender_id, reply)

    handlers = SessionHandlers(sio, on_new_message, SessionSigner(SECRET), **kwargs)
    return handlers, sio, received


# --------------------------------------------------------------------------- tokens


def test_a_token_verifies_for_its_own_session_only() -> None:
    signer = SessionSigner(SECRET)
    session_id = new_session_id()
    token = signer.issue(session_id)

    assert len(session_id) == 32
    assert signer.verify(session_id, token)
    assert not signer.verify(new_session_id(), token)


def test_a_tampered_or_foreign_token_is_refused() -> None:
    signer = SessionSigner(SECRET)
    session_id = new_session_id()
    token = signer.issue(session_id)
    version, issued, mac = token.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")

    assert not signer.verify(session_id, f"{version}.{issued}.{flipped}")
    assert not signer.verify(session_id, f"v2.{issued}.{mac}")
    assert not signer.verify(session_id, f"{version}.{int(issued, 16) + 1:x}.{mac}")
    assert not SessionSigner(b"another secret, also 32 bytes!!!").verify(session_id, token)
    for garbage in (None, "", "abc", 42, "v1.zz.abc", "v1." + "a" * 300):
        assert not signer.verify(session_id, garbage)
    assert not signer.verify(None, token)
    assert not signer.verify("short-id", signer.issue("short-id"))


def test_tokens_expire_and_cannot_come_from_the_future() -> None:
    clock = FakeClock()
    signer = SessionSigner(SECRET, ttl_seconds=3600, clock=clock)
    session_id = new_session_id()
    token = signer.issue(session_id)

    clock.now += 3599
    assert signer.verify(session_id, token)
    clock.now += 2
    assert not signer.verify(session_id, token)

    clock.now = 1_700_000_000.0 - 3600  # the token was issued "in the future"
    assert not signer.verify(session_id, token)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        SessionSigner(b"short")


def test_the_secret_comes_from_the_environment_or_is_random() -> None:
    session_id = new_session_id()
    env = {"WEB_SESSION_SECRET": "a-long-enough-secret-for-the-tests-123456"}
    before_restart = signer_from_environment(environ=env).issue(session_id)

    assert signer_from_environment(environ=env).verify(session_id, before_restart)
    random_one = signer_from_environment(environ={})
    assert not random_one.verify(session_id, before_restart)
    assert not signer_from_environment(environ={}).verify(session_id, random_one.issue(session_id))


# --------------------------------------------------------------------------- sessions


def test_no_session_id_starts_a_new_session() -> None:
    signer = SessionSigner(SECRET)
    for data in (None, {}, {"session_id": None}, "not a dict"):
        session = resolve_session(data, signer)
        assert not session.resumed
        assert signer.verify(session.session_id, session.token)


def test_a_good_token_resumes_the_session() -> None:
    signer = SessionSigner(SECRET)
    first = resolve_session({}, signer)

    again = resolve_session({"session_id": first.session_id, "token": first.token}, signer)

    assert again.resumed
    assert again.session_id == first.session_id
    assert signer.verify(again.session_id, again.token)


def test_a_forged_unsigned_or_borrowed_token_gets_a_fresh_session() -> None:
    signer = SessionSigner(SECRET)
    victim = resolve_session({}, signer)
    other = resolve_session({}, signer)
    forged = SessionSigner(b"attacker secret attacker secret!").issue(victim.session_id)

    attempts = [
        {"session_id": victim.session_id},  # stock widgets: the id alone
        {"session_id": victim.session_id, "token": forged},
        {"session_id": victim.session_id, "token": other.token},
        {"session_id": "my-own-chosen-id", "token": "v1.0.abc"},
    ]
    for data in attempts:
        session = resolve_session(data, signer)
        assert not session.resumed
        assert session.session_id not in (victim.session_id, other.session_id, "my-own-chosen-id")


def test_without_persistence_every_request_gets_a_new_session() -> None:
    signer = SessionSigner(SECRET)
    first = resolve_session({}, signer)
    again = resolve_session({"session_id": first.session_id, "token": first.token}, signer, persistence=False)
    assert not again.resumed and again.session_id != first.session_id


# --------------------------------------------------------------------------- origins


def test_origins_parse_from_a_list_or_a_string() -> None:
    assert parse_allowed_origins(None) is None
    assert parse_allowed_origins([]) is None
    assert parse_allowed_origins(["http://127.0.0.1:5005", "HTTP://LocalHost:5005/"]) == [
        "http://127.0.0.1:5005",
        "http://localhost:5005",
    ]
    assert parse_allowed_origins("https://a.example, https://b.example  https://a.example") == [
        "https://a.example",
        "https://b.example",
    ]
    assert parse_allowed_origins(["http://[::1]:5005"]) == ["http://[::1]:5005"]


@pytest.mark.parametrize(
    "bad",
    ["*", ["*"], ["https://*.example.org"], ["https://site.example/chat"], ["site.example"],
     ["ftp://site.example"], ["javascript:alert(1)"], [42], 42],
)
def test_wildcards_and_non_origins_are_refused(bad: Any) -> None:
    with pytest.raises(OriginConfigError):
        parse_allowed_origins(bad)


def test_the_environment_overrides_the_credentials() -> None:
    configured = ["http://localhost:5005"]
    env = {"WEB_ALLOWED_ORIGINS": "https://www.ville.example,https://urbact.example"}

    assert allowed_origins_from(configured, env) == ["https://www.ville.example", "https://urbact.example"]
    assert allowed_origins_from(configured, {"WEB_ALLOWED_ORIGINS": "  "}) == configured
    assert allowed_origins_from(configured, {}) == configured
    with pytest.raises(OriginConfigError):
        allowed_origins_from(configured, {"WEB_ALLOWED_ORIGINS": "*"})


def test_the_origin_policy_admits_listed_sites_and_own_localhost_pages() -> None:
    policy = OriginPolicy(["https://www.ville.example"])
    local = {"HTTP_HOST": "127.0.0.1:5010"}

    assert policy("https://www.ville.example", {"HTTP_HOST": "bot.example"})
    assert policy("https://www.ville.example/", {})
    assert not policy("https://evil.example", {"HTTP_HOST": "bot.example"})
    assert not policy("https://www.ville.example.evil.example", {})
    assert not policy("null", local)
    # the server's own page on localhost, on any port
    assert policy("http://127.0.0.1:5010", local)
    assert not policy("http://localhost:5010", local)  # another origin than the Host
    assert not policy("http://127.0.0.1:6000", local)
    # a DNS-rebinding page is same-origin but not localhost: refused
    assert not policy("http://evil.example:5010", {"HTTP_HOST": "evil.example:5010"})
    # requests without an Origin header (not from a browser) are not CORS-checked
    assert policy(None, local)


def test_without_configuration_only_own_localhost_pages_connect() -> None:
    policy = OriginPolicy(None)
    assert policy("http://localhost:5005", {"HTTP_HOST": "localhost:5005"})
    assert not policy("http://localhost:5005", {"HTTP_HOST": "127.0.0.1:5005"})
    assert not policy("https://www.ville.example", {"HTTP_HOST": "www.ville.example"})


# --------------------------------------------------------------------------- message validation


def test_a_message_is_validated_and_cleaned() -> None:
    text, metadata = parse_user_message({"message": "Bonjour\x00 !", "metadata": '{"page": "/"}'})
    assert text == "Bonjour  !"
    assert metadata == {"page": "/"}
    assert parse_user_message({"message": "ok", "metadata": "not json"})[1] is None
    assert parse_user_message({"message": "ok", "customData": {"a": 1}}, "customData")[1] == {"a": 1}
    with pytest.raises(InvalidInput):  # too large: refused in French, no longer dropped silently
        parse_user_message({"message": "ok", "metadata": {"x": "y" * 5000}})


@pytest.mark.parametrize(
    "data",
    [None, "Bonjour", ["Bonjour"], {}, {"message": ""}, {"message": "   "}, {"message": 12},
     {"message": "a" * (MAX_MESSAGE_CHARS + 1)}],
)
def test_invalid_messages_are_refused(data: Any) -> None:
    with pytest.raises(InvalidInput):
        parse_user_message(data)


# --------------------------------------------------------------------------- handlers


@pytest.mark.asyncio
async def test_session_request_joins_the_room_and_confirms_with_a_token() -> None:
    handlers, sio, _ = make_handlers()

    await handlers.session_request("sock1", {})

    (token_payload, token_room), = sio.events("session_token")
    (confirmed, confirm_room), = sio.events("session_confirm")
    assert isinstance(confirmed, str) and confirmed == token_payload["session_id"]
    assert token_room == confirm_room == "sock1"
    assert confirmed in sio.rooms["sock1"]  # enter_room was awaited
    assert handlers.signer.verify(confirmed, token_payload["token"])
    # token first, then the confirmation (the widget needs the token when confirmed)
    assert [e for e, _, _ in sio.emitted] == ["session_token", "session_confirm"]


@pytest.mark.asyncio
async def test_a_reconnecting_client_with_its_token_resumes_its_session() -> None:
    handlers, sio, received = make_handlers()
    await handlers.session_request("sock1", {})
    (first, _), = sio.events("session_token")
    await handlers.disconnect("sock1")

    await handlers.session_request("sock2", {"session_id": first["session_id"], "token": first["token"]})
    await handlers.user_uttered("sock2", {"message": "Bonjour", "session_id": first["session_id"]})

    assert sio.events("session_confirm")[-1] == (first["session_id"], "sock2")
    assert first["session_id"] in sio.rooms["sock2"]
    assert received[0].sender_id == first["session_id"]
    assert sio.events("bot_uttered") == [({"text": "Bonjour !"}, first["session_id"])]


@pytest.mark.asyncio
async def test_a_forged_token_gets_a_fresh_session_and_cannot_write_elsewhere() -> None:
    handlers, sio, received = make_handlers()
    await handlers.session_request("victim", {})
    (victim, _), = sio.events("session_token")

    await handlers.session_request("intruder", {"session_id": victim["session_id"], "token": "v1.0.forged"})
    # the intruder also writes the victim's id in its message: ignored
    await handlers.user_uttered("intruder", {"message": "coucou", "session_id": victim["session_id"]})

    intruder_session = sio.events("session_confirm")[-1][0]
    assert intruder_session != victim["session_id"]
    assert victim["session_id"] not in sio.rooms["intruder"]
    assert received[0].sender_id == intruder_session
    assert all(room != victim["session_id"] for _, room in sio.events("bot_uttered"))


@pytest.mark.asyncio
async def test_a_new_session_on_the_same_socket_leaves_the_old_room() -> None:
    handlers, sio, _ = make_handlers()
    await handlers.session_request("sock", {})
    await handlers.session_request("sock", {})
    first, second = [data for data, _ in sio.events("session_confirm")]
    assert first != second
    assert sio.rooms["sock"] == {second}


@pytest.mark.asyncio
async def test_a_message_before_any_session_request_gets_its_own_session() -> None:
    handlers, sio, received = make_handlers()
    await handlers.user_uttered("sock", {"message": "Bonjour", "session_id": "someone-else"})

    (session_id, _), = sio.events("session_confirm")
    assert received[0].sender_id == session_id != "someone-else"
    assert received[0].input_channel == "socketio"


@pytest.mark.asyncio
@pytest.mark.parametrize("data", [{"message": ""}, {"message": "x" * (MAX_MESSAGE_CHARS + 1)}, "texte", None])
async def test_an_invalid_message_gets_a_french_error_and_is_not_processed(data: Any) -> None:
    handlers, sio, received = make_handlers()
    await handlers.session_request("sock", {})

    await handlers.user_uttered("sock", data)

    assert received == []
    (error, room), = sio.events("bot_uttered")
    assert room == "sock"
    assert "message" in error["text"].lower()


@pytest.mark.asyncio
async def test_a_failure_gets_the_apology() -> None:
    handlers, sio, received = make_handlers(fail=True)
    await handlers.session_request("sock", {})
    session_id = sio.events("session_confirm")[0][0]

    await handlers.user_uttered("sock", {"message": "Bonjour"})

    assert len(received) == 1
    assert sio.events("bot_uttered") == [({"text": APOLOGY}, session_id)]


@pytest.mark.asyncio
async def test_no_reply_gets_the_apology() -> None:
    handlers, sio, _ = make_handlers(reply=None)
    await handlers.session_request("sock", {})

    await handlers.user_uttered("sock", {"message": "Bonjour"})

    assert [data["text"] for data, _ in sio.events("bot_uttered")] == [APOLOGY]


@pytest.mark.asyncio
async def test_the_output_keeps_the_stock_payload_shapes() -> None:
    sio = FakeSio()
    output = WebsiteOutput(sio, "bot_uttered")
    buttons = [{"title": "Oui", "payload": "/affirm"}]

    await output.send_text_with_buttons("room1", "Premier.\n\nSecond ?", buttons)
    await output.send_custom_json("room1", {"data": {"custom": 1}, "room": "another-room"})

    assert sio.events("bot_uttered") == [
        ({"text": "Premier.", "quick_replies": []}, "room1"),
        ({"text": "Second ?", "quick_replies": [{"content_type": "text", "title": "Oui", "payload": "/affirm"}]}, "room1"),
        ({"custom": 1}, "room1"),
    ]
    assert output.sent == 3


# --------------------------------------------------------------------------- channel


def test_the_channel_reads_its_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEB_ALLOWED_ORIGINS", raising=False)
    monkeypatch.setenv("WEB_SESSION_SECRET", "a-long-enough-secret-for-the-tests-123456")
    credentials = {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": True,
        "cors_allowed_origins": ["http://127.0.0.1:5005", "http://localhost:5005"],
        "web_path": "/chat/",
    }
    first = WebsiteSocketIOInput.from_credentials(credentials)
    restarted = WebsiteSocketIOInput.from_credentials(credentials)

    assert WebsiteSocketIOInput.name() == "socketio"
    assert first.web_path == "/chat"
    assert first.origin_policy.allowed == ["http://127.0.0.1:5005", "http://localhost:5005"]
    session = resolve_session({}, first.signer)
    assert restarted.signer.verify(session.session_id, session.token)  # same secret

    monkeypatch.setenv("WEB_ALLOWED_ORIGINS", "https://www.ville.example")
    assert WebsiteSocketIOInput.from_credentials(credentials).origin_policy.allowed == ["https://www.ville.example"]
    monkeypatch.delenv("WEB_ALLOWED_ORIGINS")
    with pytest.raises(OriginConfigError):
        WebsiteSocketIOInput.from_credentials({"cors_allowed_origins": "*"})


def test_the_web_assets_exist_and_never_use_inner_html() -> None:
    for _, file_name, _ in web_assets.ASSETS.values():
        assert (web_assets.WEB_DIR / file_name).is_file(), file_name
    widget = (web_assets.WEB_DIR / "widget.js").read_text(encoding="utf-8")
    assert "innerHTML" not in widget and "insertAdjacentHTML" not in widget
    assert "outerHTML" not in widget and "document.write" not in widget


async def test_the_demo_page_is_served_with_a_strict_content_security_policy() -> None:
    page = await web_assets.asset_handler(web_assets.WEB_DIR / "index.html", "text/html; charset=utf-8", True)(None)
    script = await web_assets.asset_handler(web_assets.WEB_DIR / "widget.js", "text/javascript", False)(None)
    missing = await web_assets.asset_handler(web_assets.WEB_DIR / "nope.js", "text/javascript", False)(None)

    assert page.status == 200 and b'lang="fr"' in page.body
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert script.status == 200 and "Content-Security-Policy" not in script.headers
    assert missing.status == 404
