"""Fixtures of the integration tests of the actions environment (defined in database_integration_helpers.py).

`db_url` is an empty database of each backend (SQLite file, throwaway PostgreSQL database),
`postgres_database` the session's PostgreSQL database, `kb` the knowledge base of data/kb.
"""

from database_integration_helpers import db_url, kb, postgres_database

__all__ = ["db_url", "kb", "postgres_database"]
