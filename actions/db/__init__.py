"""What every feature's tables share: the async engine (engine.py), the declarative base
(base.py), the repository errors (errors.py), the deadline of one call (deadline.py) and the
Alembic migrations (migrations/, config alembic.ini; migrate.py runs them from Python).

This package never imports rasa.
"""
