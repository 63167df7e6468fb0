"""The scale-out topology (bot/ops/topology.py) for the end-to-end tests: nginx in front of
two Rasa instances, on the PostgreSQL and Redis the tests use (TEST_POSTGRES_PORT,
TEST_REDIS_PORT), with databases of the test module's own, dropped before and after."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict

import psycopg2
import pytest

from bot.ops.services import POSTGRES_PORT, REDIS_PORT
from bot.ops.topology import Topology
from tests.e2e.conftest import model_path

PG_PORT = int(os.environ.get("TEST_POSTGRES_PORT") or POSTGRES_PORT)
REDIS_PORT_USED = int(os.environ.get("TEST_REDIS_PORT") or REDIS_PORT)
INSTANCES = 2
READY_SECONDS = 300
BASE_ENV = {
    "HANDOFF_DELIVERY_LOOP": "off",  # hand-off requests stay in the database
    "NGINX_RATE_PER_ADDRESS": "1000",  # every test request comes from 127.0.0.1
    "RATE_LIMIT_PER_CONVERSATION": "0",
}


def drop_databases(*names: str) -> None:
    """Drop the test's databases, even with the topology's connections still open."""
    connection = psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def launch_topology(workdir: Path, extra_env: Dict[str, str], tracker_db: str, kb_db: str) -> Topology:
    """The topology, once ready; if it does not start, it is stopped, its databases dropped,
    and the test fails with the reason."""
    topology = Topology.launch(
        model_path(), INSTANCES, extra_env={**BASE_ENV, **extra_env}, workdir=workdir,
        postgres_port=PG_PORT, redis_port=REDIS_PORT_USED, tracker_db=tracker_db, kb_db=kb_db,
    )
    try:
        topology.wait_ready(timeout=READY_SECONDS)
    except (RuntimeError, TimeoutError) as error:
        topology.stop()
        drop_databases(tracker_db, kb_db)
        pytest.fail(f"La topologie n'a pas démarré : {error}", pytrace=False)
    return topology
