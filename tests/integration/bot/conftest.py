"""Fixtures of the Rasa-environment integration tests: throwaway PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from typing import Iterator

import psycopg2
import pytest
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_admin(sql: str) -> None:
    """Run one statement on TEST_POSTGRES_ADMIN_URL (autocommit: CREATE/DROP DATABASE)."""
    url = make_url(ADMIN_URL)
    conn = psycopg2.connect(host=url.host, port=url.port or 5432, user=url.username,
                            password=url.password, dbname=url.database, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def throwaway_postgres_url() -> Iterator[str]:
    """The URL (psycopg2 driver) of a new, empty database, dropped after the test."""
    name = f"rasa_test_{uuid.uuid4().hex[:10]}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(ADMIN_URL).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
