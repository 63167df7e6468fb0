"""The secret shared by Rasa and the action server (ACTION_SERVER_TOKEN).

Rasa sends it with every action call (`Authorization: Bearer ${ACTION_SERVER_TOKEN}` in
endpoints.yml and endpoints.production.yml); the action server refuses any call without it
(actions/ops/action_server.py). Pure functions, no Rasa, no Sanic.

`python -m common.action_secret [--endpoints FILE]` prints the secret to use at start:
ACTION_SERVER_TOKEN when set (checked), otherwise a random one for the default profile
(endpoints.yml); any other profile (endpoints.production.yml) refuses to start without it.
"""

from __future__ import annotations

import argparse
import hmac
import os
import secrets
import sys
from pathlib import Path
from typing import Final, Mapping, Optional, Sequence

from common import settings

ENV_NAME: Final[str] = settings.ACTION_SERVER_TOKEN.name
MIN_CHARS: Final[int] = 16
DEFAULT_PROFILE: Final[str] = "endpoints.yml"
SCHEME: Final[str] = "Bearer "


class SecretError(ValueError):
    """Raised with a French message for the operator."""


def check_secret(value: Optional[str]) -> str:
    """The configured secret, or SecretError when it is missing or too weak."""
    if not value:
        raise SecretError(
            f"{ENV_NAME} n'est pas défini : le serveur d'actions refuse de démarrer sans le "
            "secret partagé avec Rasa (voir README, « Ports and environment variables »)."
        )
    if len(value) < MIN_CHARS or value != value.strip() or any(ch.isspace() for ch in value):
        raise SecretError(
            f"{ENV_NAME} doit faire au moins {MIN_CHARS} caractères, sans espace "
            "(par exemple : python3 -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )
    return value


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_for_start(env: Mapping[str, str], endpoints: str = DEFAULT_PROFILE) -> str:
    """The secret for `make run`: the configured one, or a random one in the default profile."""
    configured = env.get(ENV_NAME)
    if configured or Path(endpoints).name != DEFAULT_PROFILE:
        if not configured:
            raise SecretError(
                f"Le profil {Path(endpoints).name} exige {ENV_NAME} (secret partagé entre Rasa "
                "et le serveur d'actions) : définissez-le, aucun secret n'est tiré au hasard "
                "hors du profil par défaut."
            )
        return check_secret(configured)
    return new_secret()


def is_authorized(header: Optional[str], secret: str) -> bool:
    """True when the Authorization header carries the secret (constant-time comparison)."""
    if not header or not header.startswith(SCHEME):
        return False
    given = header[len(SCHEME):].strip().encode("utf-8")
    return hmac.compare_digest(given, secret.encode("utf-8"))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m common.action_secret")
    parser.add_argument("--endpoints", default=DEFAULT_PROFILE)
    args = parser.parse_args(argv)
    try:
        print(secret_for_start(os.environ, args.endpoints))
    except SecretError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
