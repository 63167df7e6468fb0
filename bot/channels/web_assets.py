"""The demo page and the chat widget, served by Rasa's own web server under ``web_path``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Coroutine, Dict, Tuple

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
ASSETS: Dict[str, Tuple[str, str, str]] = {
    # url path below web_path -> (route name, file under bot/web, content type)
    "/": ("urbact_chat_page", "index.html", "text/html; charset=utf-8"),
    "/widget.js": ("urbact_chat_widget_js", "widget.js", "text/javascript; charset=utf-8"),
    "/widget.css": ("urbact_chat_widget_css", "widget.css", "text/css; charset=utf-8"),
    "/page.css": ("urbact_chat_page_css", "page.css", "text/css; charset=utf-8"),
    "/vendor/socket.io.min.js": (
        "urbact_chat_socketio_js",
        "vendor/socket.io.min.js",
        "text/javascript; charset=utf-8",
    ),
}
# The demo page runs only our own files; the widget talks to this server only.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def asset_handler(
    file_path: Path, content_type: str, is_page: bool
) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse]]:
    async def handler(_: Request) -> HTTPResponse:
        try:
            body = file_path.read_bytes()
        except OSError:
            logger.error("socketio: web asset %s is missing", file_path)
            return response.text("Not found", status=404)
        headers = {
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if is_page:
            headers["Content-Security-Policy"] = PAGE_CSP
        return response.raw(body, content_type=content_type, headers=headers)

    return handler


def add_web_routes(app: Sanic, web_path: str) -> None:
    """The page at ``web_path + "/"`` (``web_path`` redirects there) and its files."""
    for suffix, (route_name, file_name, content_type) in ASSETS.items():
        app.add_route(
            asset_handler(WEB_DIR / file_name, content_type, file_name.endswith(".html")),
            web_path + suffix,
            methods=["GET"],
            name=route_name,
            strict_slashes=True,
        )

    async def to_page(_: Request) -> HTTPResponse:
        return response.redirect(web_path + "/")

    app.add_route(
        to_page, web_path, methods=["GET"], name="urbact_chat_redirect", strict_slashes=True
    )
