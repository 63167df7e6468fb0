"""Knowledge-base database for the URBACT assistant (networks, cities, funding calls).

Layout:
- vocab.py        fixed vocabularies (network types, programmes, city kinds, countries)
- models.py       SQLAlchemy 2 typed ORM
- engine.py       async engine / session factory from DATABASE_URL
- repositories.py Repository protocol, SqlRepository, InMemoryRepository, DTOs
- loader.py       CSV parsing and validation of data/kb (no database needed)
- lookups.py      generation of data/nlu/lookups.yml from data/kb
- sync.py         idempotent import of a validated knowledge base into the database
- migrations/     Alembic migrations (config: actions/db/alembic.ini)

This package never imports rasa.
"""
