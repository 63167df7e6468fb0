"""The /insights/ page channel in a real Sanic server (sanic-testing is not in the Rasa lock:
the app is served on a free port and asked with aiohttp, as the Slack channel tests do)."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Dict, Optional, Tuple
from urllib.parse import urljoin

import aiohttp
import pytest

from bot.channels.insights_page import InsightsPageInput, password_of, report_file, token_matches
from tests.support.sanic_server import served

TOKEN = "jeton-de-test-equipe"
PNG = b"\x89PNG\r\n\x1a\nfake chart"
Get = Callable[..., Awaitable[Tuple[int, Dict[str, str], bytes]]]


def basic(password: str, user: str = "equipe") -> Dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture()
def report_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "results" / "insights"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("<h1>Rapport de la semaine</h1>", encoding="utf-8")
    (folder / "messages_per_day.png").write_bytes(PNG)
    (folder / "summary.json").write_text('{"conversations": 3}', encoding="utf-8")
    (tmp_path / "results" / "secret.txt").write_text("hors du rapport", encoding="utf-8")
    return folder


async def serve(channel: InsightsPageInput) -> AsyncIterator[Get]:
    async def no_messages(_: object) -> None:
        raise AssertionError("the insights page never hands a message to the assistant")

    # As rasa.core.channels.channel.register does with `rasa run`'s route "/webhooks/".
    prefix = urljoin("/webhooks/", channel.url_prefix())
    async with served(channel.blueprint(no_messages), prefix) as base_url:

        async def get(path: str, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
            async with aiohttp.ClientSession() as session:
                async with session.get(base_url + path, headers=headers or {}, allow_redirects=False) as resp:
                    return resp.status, dict(resp.headers), await resp.read()

        yield get


@pytest.fixture()
async def page(report_dir: Path) -> AsyncIterator[Get]:
    async for get in serve(InsightsPageInput(token=TOKEN, report_dir=report_dir)):
        yield get


async def test_staff_token_opens_the_page_and_its_charts(page: Get) -> None:
    status, headers, body = await page("/insights/", basic(TOKEN))
    assert status == 200
    assert body == "<h1>Rapport de la semaine</h1>".encode()
    assert headers["Content-Type"].startswith("text/html")
    assert headers["Cache-Control"] == "no-store"
    status, _, body = await page("/insights", basic(TOKEN))
    assert (status, body) == (200, "<h1>Rapport de la semaine</h1>".encode())
    status, headers, body = await page("/insights/messages_per_day.png", basic(TOKEN, user="n-importe-qui"))
    assert (status, body, headers["Content-Type"]) == (200, PNG, "image/png")
    assert headers["Cache-Control"] == "no-store"
    status, _, body = await page("/insights/summary.json", basic(TOKEN))
    assert (status, body) == (200, b'{"conversations": 3}')


async def test_without_the_token_the_answer_is_401_with_a_challenge(page: Get) -> None:
    for headers in ({}, basic("mauvais-jeton"), basic(TOKEN[:-1]), {"Authorization": "Bearer " + TOKEN},
                    {"Authorization": "Basic pas-du-base64!"}):
        for path in ("/insights/", "/insights/messages_per_day.png", "/insights/absent.png"):
            status, answer_headers, body = await page(path, headers)
            assert status == 401, (path, headers)
            assert answer_headers["WWW-Authenticate"].startswith('Basic realm="Rapport URBACT"')
            assert answer_headers["Cache-Control"] == "no-store"
            assert b"Rapport de la semaine" not in body and PNG not in body


async def test_only_files_of_the_report_folder_are_served(page: Get) -> None:
    for path in ("/insights/../secret.txt", "/insights/%2e%2e%2fsecret.txt", "/insights/..%2Fsecret.txt",
                 "/insights/secret.txt", "/insights/absent.png", "/insights/.hidden.png"):
        status, headers, body = await page(path, basic(TOKEN))
        assert status == 404, path
        assert b"hors du rapport" not in body


async def test_report_not_written_yet_says_how_to_write_it(tmp_path: Path) -> None:
    async for get in serve(InsightsPageInput(token=TOKEN, report_dir=tmp_path / "absent")):
        status, headers, body = await get("/insights/", basic(TOKEN))
        assert status == 404
        assert "make insights" in body.decode()
        assert headers["Cache-Control"] == "no-store"


async def test_without_insights_token_the_page_does_not_exist(
    report_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.channels.insights_page"):
        channel = InsightsPageInput(token="", report_dir=report_dir)
    assert [r.getMessage() for r in caplog.records] == [
        "insights page: off (INSIGHTS_TOKEN unset): /insights/ answers 404"
    ]
    async for get in serve(channel):
        for headers in ({}, basic(""), basic("x")):
            status, answer_headers, _ = await get("/insights/", headers)
            assert status == 404
            assert "WWW-Authenticate" not in answer_headers


def test_from_credentials_reads_insights_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSIGHTS_TOKEN", "  depuis-l-environnement ")
    assert InsightsPageInput.from_credentials(None).token == "depuis-l-environnement"
    assert InsightsPageInput.from_credentials(None).report_dir.parts[-2:] == ("results", "insights")
    monkeypatch.delenv("INSIGHTS_TOKEN")
    assert InsightsPageInput.from_credentials(None).token == ""
    elsewhere = InsightsPageInput.from_credentials({"report_dir": "/tmp/rapport-de-test"})
    assert elsewhere.report_dir == Path("/tmp/rapport-de-test")  # absolute: kept as given


def test_basic_header_parsing_and_comparison() -> None:
    assert password_of(basic("a:b:c")["Authorization"]) == b"a:b:c"  # only the first colon splits
    assert password_of("Basic " + base64.b64encode(b"no-colon").decode()) is None
    assert password_of(None) is None
    assert token_matches(basic(TOKEN)["Authorization"], TOKEN)
    assert not token_matches(basic("")["Authorization"], TOKEN)
    assert not token_matches(None, TOKEN)


def test_report_file_refuses_names_outside_the_folder(report_dir: Path) -> None:
    assert report_file(report_dir, "index.html") == (report_dir / "index.html").resolve()
    (report_dir / "link.png").symlink_to(report_dir.parent / "secret.txt")
    assert report_file(report_dir, "link.png") is None  # resolves outside the folder
    assert report_file(report_dir, "../secret.txt") is None
