"""Errors every repository raises, and the one way a database error is described in logs."""

from __future__ import annotations


class RepositoryError(Exception):
    """Base class of every error a repository raises."""


def describe_db_error(exc: BaseException) -> str:
    """The class and the first line of a database error, for logs and RepositoryError.

    Never the statement's parameters (SQLAlchemy appends "[parameters: ...]", i.e. the
    names, e-mails and questions of hand-off requests) nor the server's DETAIL lines
    (PostgreSQL: "Failing row contains (...)"); the chained exception is dropped too
    (``from None``), so a logged trace cannot show them either.
    """
    orig = getattr(exc, "orig", None)
    source = orig if isinstance(orig, BaseException) else exc
    lines = str(source).strip().splitlines()
    first = lines[0] if lines else ""
    if first.startswith("<class '") and "'>: " in first:  # SQLAlchemy's asyncpg adapter
        first = first.split("'>: ", 1)[1]
    kind = type(source).__name__
    wrapper = type(exc).__name__
    return f"{kind}: {first[:300]}" if kind == wrapper else f"{wrapper}: {kind}: {first[:300]}"


class RepositoryUnavailable(RepositoryError):
    """The database cannot be reached, is not initialised, or failed."""


class RepositoryTimeout(RepositoryUnavailable):
    """A call exceeded its deadline."""
