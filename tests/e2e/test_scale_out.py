"""Scale-out for real: nginx in front of two Rasa instances sharing PostgreSQL and Redis.

One topology (bot/ops/topology.py) for the module, on the servers `make test` tests against
(TEST_POSTGRES_PORT, TEST_REDIS_PORT) with databases of its own:

a. a REST conversation (the hand-off form) whose turns alternate between the two instances
   keeps its context, and its events in PostgreSQL are neither lost, doubled nor reordered;
b. a website conversation (socket.io through nginx) survives `kill -9` of the instance that
   held its socket: the client reconnects with its signed token and the form goes on;
c. `kill -9` of one instance under load through nginx: the other keeps answering, only the
   messages in flight at the kill fail;
d. everything stopped and launched again on the same databases: the conversation resumes.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import psycopg2
import pytest
import requests

from bot.ops.topology import Instance, Topology
from tests.support.chat_client import ChatClient
from tests.support.scale_out import PG_PORT, drop_databases, launch_topology

TRACKER_DB = "urbact_scale_tracker_e2e"
KB_DB = "urbact_scale_kb_e2e"
QUESTION = "Peut-on rejoindre un réseau de transfert sans expérience européenne ?"
LOAD_SECONDS = 15.0
LOAD_USERS = 10


def _drop_databases() -> None:
    drop_databases(TRACKER_DB, KB_DB)


def _launch(workdir: Path) -> Topology:
    return launch_topology(workdir, {}, TRACKER_DB, KB_DB)  # no Slack here: hand-offs stay in the database


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Dict[str, Topology]]:
    """{"topology": the running topology}; test d replaces it with a relaunched one. Its logs
    are printed when a test failed (they stay in pytest's temporary folder)."""
    _drop_databases()
    holder = {"topology": _launch(tmp_path_factory.mktemp("topology"))}
    failed_before = request.session.testsfailed
    try:
        yield holder
    finally:
        if request.session.testsfailed > failed_before:
            print(holder["topology"].logs())
        holder["topology"].stop()
        _drop_databases()


@pytest.fixture
def topology(cluster: Dict[str, Topology]) -> Topology:
    return cluster["topology"]


def rest(url: str, sender: str, text: str, timeout: float = 90) -> str:
    answer = requests.post(url, json={"sender": sender, "message": text}, timeout=timeout)
    assert answer.status_code == 200, f"{answer.status_code}: {answer.text[:300]}"
    return "\n".join(str(reply.get("text", "")) for reply in answer.json())


def tracker_rows(sender_id: str) -> List[Tuple[str, float, Optional[str]]]:
    """(type, timestamp, text of a user event) of a conversation, in the order stored."""
    with psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="postgres", dbname=TRACKER_DB) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT type_name, timestamp, CASE WHEN type_name = 'user' THEN data::json->>'text' END "
                "FROM events WHERE sender_id = %s ORDER BY id",
                (sender_id,),
            )
            return [(row[0], float(row[1]), row[2]) for row in cursor.fetchall()]


def revive(topology: Topology) -> None:
    """Start again the instances a test killed, for the next tests."""
    for instance in topology.instances:
        if instance.process.poll() is not None:
            instance.start()


def handoff_ids(email: str) -> List[int]:
    with psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="postgres", dbname=KB_DB) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM handoff_requests WHERE email = %s", (email,))
            return [row[0] for row in cursor.fetchall()]


# --------------------------------------------------------------------------- a. REST


def test_rest_conversation_alternating_between_instances_keeps_its_context(topology: Topology) -> None:
    first, second = topology.instances
    sender, name = f"alt-{uuid.uuid4().hex[:8]}", "Lucie Alternance"
    email = f"lucie-{uuid.uuid4().hex[:6]}@saint-aubin.fr"
    turns = [
        (first, "je voudrais être contacté", "votre nom"),
        (second, name, "organisation"),
        (first, "Mairie de Saint-Aubin", "e-mail"),
        (second, email, "question"),
        (first, QUESTION, "Acceptez-vous"),
    ]
    for instance, text, expected in turns:
        reply = rest(instance.rest_url, sender, text)
        assert expected.lower() in reply.lower(), f"instance {instance.index}, « {text} » -> {reply!r}"
    assert name in reply  # the recap, on instance 0, names what instance 1 was told
    final = rest(second.rest_url, sender, "oui")
    stored = handoff_ids(email)
    assert len(stored) == 1 and f"n° {stored[0]}" in final, final

    rows = tracker_rows(f"rest:{sender}")
    said = [text for kind, _, text in rows if kind == "user"]
    assert said == [text for _, text, _ in turns] + ["oui"]  # each user turn once, in order
    stamps = [stamp for _, stamp, _ in rows]
    assert stamps == sorted(stamps), "events stored out of order"


# --------------------------------------------------------------------------- b. website


def web_client() -> ChatClient:
    """A visitor's socket through nginx, over websocket as the widget speaks. The timeout is
    aiohttp's own value: python-engineio 4.15 builds an aiohttp.ClientWSTimeout (aiohttp >=
    3.10) and lets these options replace it (see websocket_client_shim)."""
    return ChatClient(transport="websocket", wait_seconds=40, websocket_extra_options={"timeout": 10.0})


def text_of(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(str(reply.get("text", "")) for reply in replies)


@pytest.fixture
def websocket_client_shim(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-engineio's websocket client names aiohttp.ClientWSTimeout, which the aiohttp
    Rasa pins (3.9) lacks; the name is only built and then replaced by our float timeout
    (web_client), so a stand-in lets the client speak websocket, as the widget does."""
    import aiohttp

    if not hasattr(aiohttp, "ClientWSTimeout"):
        monkeypatch.setattr(aiohttp, "ClientWSTimeout", lambda **_: None, raising=False)


def socket_holder(topology: Topology) -> Instance:
    """The instance nginx sends this client's socket.io requests to.

    A websocket is logged only when it closes, so we ask with a polling handshake: the
    socket.io upstream hashes the client address, the same for both. The access log names
    the upstream (several when nginx passed the request on: the last one answered). nginx
    writes that line after it has sent the answer, so we wait for the line of our own
    request (a marker in its query string), not for the last line of the file."""
    marker = uuid.uuid4().hex
    answer = requests.get(f"{topology.url}/socket.io/?EIO=4&transport=polling&probe={marker}", timeout=10)
    assert answer.status_code == 200, answer.text[:200]
    log = topology.workdir / "nginx" / "access.log"
    deadline = time.monotonic() + 10
    lines: List[str] = []
    while not lines and time.monotonic() < deadline:
        lines = [line for line in log.read_text().splitlines() if marker in line]
        if not lines:
            time.sleep(0.05)
    assert lines, f"nginx logged no line for the probe {marker}"
    upstreams = lines[-1].split("upstream=", 1)[1].split(" upstream_status", 1)[0]
    port = int(upstreams.split(",")[-1].strip().rsplit(":", 1)[1])
    return next(instance for instance in topology.instances if instance.port == port)


@pytest.mark.usefixtures("websocket_client_shim")
def test_website_conversation_survives_the_death_of_its_instance(topology: Topology) -> None:
    async def scenario() -> Tuple[str, Instance, str]:
        client = web_client()
        await client.connect(topology.url)
        session_id, token = await client.session()
        asked = text_of(await client.ask("je voudrais être contacté"))
        assert "votre nom" in asked, asked
        holder = socket_holder(topology)
        holder.kill()  # kill -9 of the instance holding the socket
        await client.sio.disconnect()

        again = web_client()
        await again.connect(topology.url)  # nginx: the hashed instance is down, the other serves
        resumed, _ = await again.session({"session_id": session_id, "token": token})
        assert resumed == session_id, "the signed token did not resume the session"
        reply = text_of(await again.ask("Nadia Relance"))
        await again.sio.disconnect()
        return session_id, holder, reply

    try:
        session_id, holder, reply = asyncio.run(scenario())
        assert "organisation" in reply.lower(), f"the form did not go on after the kill: {reply!r}"
        survivor = socket_holder(topology)
        assert survivor is not holder
        said = [text for kind, _, text in tracker_rows(session_id) if kind == "user"]
        assert said == ["je voudrais être contacté", "Nadia Relance"]
    finally:
        revive(topology)


# --------------------------------------------------------------------------- c. load


def test_one_instance_killed_under_load(topology: Topology) -> None:
    for instance in topology.instances:  # both serving (one may have just been revived by test b)
        assert "URBACT" in rest(instance.rest_url, f"warm-{uuid.uuid4().hex[:6]}", "c'est quoi URBACT ?")
    stop_at = time.monotonic() + LOAD_SECONDS
    kill_at = time.monotonic() + LOAD_SECONDS / 3
    killed_at: List[float] = []
    outcomes: List[Tuple[float, float, bool, str]] = []  # (sent, answered, ok, detail)
    lock = threading.Lock()

    def user(number: int) -> None:
        turn = 0
        while time.monotonic() < stop_at:
            turn += 1
            sent = time.monotonic()
            try:
                reply = rest(topology.rest_url, f"load-{number}-{turn}-{uuid.uuid4().hex[:4]}",
                             "c'est quoi URBACT ?", timeout=30)
                ok, detail = "URBACT" in reply, reply[:80]
            except (AssertionError, requests.RequestException) as error:
                ok, detail = False, str(error).splitlines()[0][:120]
            with lock:
                outcomes.append((sent, time.monotonic(), ok, detail))

    victim = topology.instances[1]
    with ThreadPoolExecutor(LOAD_USERS) as pool:
        for number in range(LOAD_USERS):
            pool.submit(user, number)
        time.sleep(max(0.0, kill_at - time.monotonic()))
        killed_at.append(time.monotonic())
        victim.kill()
    try:
        kill = killed_at[0]
        before = [o for o in outcomes if o[1] < kill]
        in_flight = [o for o in outcomes if o[0] <= kill <= o[1]]
        after = [o for o in outcomes if o[0] > kill]
        failed = [o for o in outcomes if not o[2]]
        counts = (f"{len(outcomes)} messages: {len(before)} answered before the kill, {len(in_flight)} in flight, "
                  f"{len(after)} sent after; {len(failed)} failed: {[o[3] for o in failed][:5]}")
        print(f"kill under load: {counts}")  # shown by pytest -rP
        assert before and all(o[2] for o in before), counts
        assert len(after) >= LOAD_USERS and all(o[2] for o in after), counts
        assert all(o in in_flight for o in failed), counts
        assert len(failed) <= LOAD_USERS, counts
        # nginx's French JSON refusal, never its HTML page (bot/ops/nginx.conf.template)
        assert all(o[3].startswith('503: {"error": "L\'assistant est momentanément indisponible') for o in failed), counts
        assert topology.instances[0].process.poll() is None, counts
    finally:
        revive(topology)


# --------------------------------------------------------------------------- d. restart


def test_restart_of_everything_resumes_the_conversation(cluster: Dict[str, Topology]) -> None:
    old = cluster["topology"]
    sender, name = f"restart-{uuid.uuid4().hex[:8]}", "Paul Redémarrage"
    assert "votre nom" in rest(old.rest_url, sender, "je voudrais être contacté")
    assert "organisation" in rest(old.rest_url, sender, name).lower()
    old.stop()
    assert all(i.process.poll() is not None for i in old.instances) and old.nginx.poll() is not None

    cluster["topology"] = new = _launch(old.workdir.parent / "relaunched")
    assert "e-mail" in rest(new.rest_url, sender, "Mairie de Saint-Aubin")
    assert "question" in rest(new.rest_url, sender, f"paul-{uuid.uuid4().hex[:6]}@saint-aubin.fr").lower()
    recap = rest(new.rest_url, sender, QUESTION)
    assert name in recap and "Acceptez-vous" in recap  # the name given before the restart is kept
