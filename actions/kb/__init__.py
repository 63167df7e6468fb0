"""The knowledge base of URBACT networks, partner cities, funding calls and contact points.

- vocab.py            fixed vocabularies (network types, programmes, city kinds, countries)
- models.py           the records: one SQLAlchemy dataclass per table, used by the importer
                      and returned by the repository
- loader.py           CSV parsing and validation of data/kb (``file:line: what is wrong``)
- sync.py             import of a validated knowledge base into the database (one transaction)
- lookups.py          data/nlu/lookups.yml and var/kb_names.json, generated from data/kb
- repository.py       read access for the actions (SqlRepository, one session per action run)
- normalize.py        entity validation and fuzzy matching against the names of the base
- formatting.py, call_match.py, closest_network.py   French answers and their helpers
- action.py           DatabaseAction, the base of the actions below
- networks.py, funding.py, contacts.py, answers_with_networks.py   the actions

Never imports rasa.
"""
