"""Fixtures of the integration tests of the actions environment (defined in database_integration_helpers.py).

`db_url` is an empty database of each backend (SQLite file, throwaway PostgreSQL database),
`postgres_database` the session's PostgreSQL database, `kb` the knowledge base of data/kb,
`migrated` that database at the Alembic head, `factory` a hand-off repository factory on it
(test_database_repository.py has a `factory` of its own, for the knowledge base).
"""

from database_integration_helpers import db_url, factory, kb, migrated, postgres_database

__all__ = ["db_url", "factory", "kb", "migrated", "postgres_database"]
