"""Start the rasa-sdk action server, bound to 127.0.0.1 and closed to callers without the secret.

    .venv-actions/bin/python -m actions.ops.action_server --actions actions --port 5055

Same options as `python -m rasa_sdk`, plus `--interface` (default: ACTIONS_HOST, else
127.0.0.1; rasa-sdk 3.6 itself binds 0.0.0.0). Differences with `python -m rasa_sdk`:
- it refuses to start without ACTION_SERVER_TOKEN (common/action_secret.py);
- GET /metrics and GET /health/ready (actions/observability/), with the counts of every
  sanic worker summed (a fresh PROMETHEUS_MULTIPROC_DIR per run, removed at exit);
- LOG_FORMAT=json: one JSON object per log line (common/json_logs.py);
- every request but GET /health, /health/ready and /metrics must carry
  `Authorization: Bearer <ACTION_SERVER_TOKEN>`
  (sent by Rasa from endpoints.yml): none gets 401, a wrong one 403, both with a French
  error and one log line (path and reason, never the body);
- an unexpected error answers a short French error: rasa-sdk's own handler would send back
  the whole request, i.e. the tracker with everything the user typed (names, e-mails).

Why not rasa-sdk's own `run()`: it reads the interface from SANIC_HOST only. Building the
app with rasa-sdk's own `create_app` and adding a request middleware here keeps the check in
one visible place. rasa-sdk 3.6 only discovers plugins through a top-level package named
`rasa_sdk_plugins`: the hand-off delivery loop's plugin (actions/handoff/plugin.py) is
registered here explicitly, then every plugin gets its `attach_sanic_app_extensions` call.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Optional, Sequence

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser, create_ssl_context
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import observability
from actions.handoff import plugin as handoff_plugin
from actions.observability import multiprocess
from common import json_logs, settings
from common.action_secret import ENV_NAME as SECRET_ENV
from common.action_secret import SecretError, check_secret, is_authorized

logger = logging.getLogger("actions.ops.action_server")

OPEN_PATHS = frozenset({"/health", observability.READY_PATH, observability.METRICS_PATH})
MISSING = "Appel refusé : le secret partagé du serveur d'actions est absent."
WRONG = "Appel refusé : le secret partagé du serveur d'actions est incorrect."
INTERNAL = "Erreur interne du serveur d'actions (détails dans son journal)."


def require_secret(app: Sanic, secret: str) -> None:
    """Refuse every request except GET /health unless it carries the shared secret."""

    @app.middleware("request")
    async def check_caller(request: Request) -> Optional[HTTPResponse]:
        if request.method == "GET" and request.path in OPEN_PATHS:
            return None
        header = request.headers.get("authorization")
        if is_authorized(header, secret):
            return None
        reason, status, text = (
            ("missing secret", 401, MISSING) if not header else ("wrong secret", 403, WRONG)
        )
        logger.warning("action server: refused %s %s: %s", request.method, request.path, reason)
        return response.json({"error": text}, status=status)


def hide_request_bodies(app: Sanic) -> None:
    """Replace rasa-sdk's error handler, which echoes the request body (the tracker)."""

    async def on_error(request: Request, exception: Exception) -> HTTPResponse:
        status = exception.status_code if isinstance(exception, SanicException) else 500
        logger.error(
            "action server: %s on %s %s (%d)", type(exception).__name__, request.method, request.path, status
        )
        return response.json({"error": INTERNAL if status >= 500 else str(exception)}, status=status)

    app.error_handler.add(Exception, on_error)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = create_argument_parser()
    parser.add_argument(
        "--interface",
        default=settings.ACTIONS_HOST.read(),
        help="address to listen on (default: ACTIONS_HOST, else 127.0.0.1)",
    )
    args = parser.parse_args(argv)
    try:
        secret = check_secret(os.environ.get(SECRET_ENV))  # unstripped: a padded secret is refused
    except SecretError as error:
        print(error, file=sys.stderr)
        return 2

    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    if json_logs.json_logs_wanted():
        json_logs.apply_json_logging()
    metrics_folder = multiprocess.prepare()  # before prometheus-client is imported
    from actions.observability import plugin as observability_plugin

    app = create_app(args.actions, cors_origins=args.cors, auto_reload=args.auto_reload)
    require_secret(app, secret)
    hide_request_bodies(app)
    handoff_plugin.register(plugin_manager())
    observability_plugin.register(plugin_manager())
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    logger.info("action server metrics: multiprocess folder %s", metrics_folder)
    logger.info("action server listening on %s:%s (shared secret required)", args.interface, args.port)
    app.run(args.interface, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
