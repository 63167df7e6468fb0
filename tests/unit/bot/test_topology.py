"""The nginx configuration rendered by bot/ops/topology.py, checked by nginx itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot.ops.topology import render_nginx

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def test_every_placeholder_is_filled_and_each_instance_is_in_both_upstreams(tmp_path: Path) -> None:
    text = render_nginx(tmp_path, 18080, [18081, 18082], 20)
    assert "{{" not in text
    assert text.count("server 127.0.0.1:18081 ") == 2 and text.count("server 127.0.0.1:18082 ") == 2
    assert "listen 127.0.0.1:18080;" in text
    assert "least_conn;" in text and "hash $remote_addr consistent;" in text
    assert "location = /metrics" in text
    assert "error_page 502 503 504 =503 @unavailable;" in text  # French JSON, not nginx's HTML
    assert "rate=20r/s" in text and text.count("limit_req zone=per_address burst=60 nodelay;") == 2
    # connection errors only, without non_idempotent: a POST already sent is never replayed
    assert "proxy_next_upstream error timeout;" in text


def test_rate_zero_turns_the_limit_off(tmp_path: Path) -> None:
    text = render_nginx(tmp_path, 18080, [18081], 0)
    assert "limit_req_zone" not in text and "limit_req zone" not in text


@pytest.mark.parametrize("rate", [0, 20])
def test_nginx_accepts_the_configuration(tmp_path: Path, rate: int) -> None:
    if not Path(NGINX).exists():
        pytest.fail("nginx manque : lancez bot/ops/ensure_nginx.sh", pytrace=False)
    config = tmp_path / "nginx.conf"
    config.write_text(render_nginx(tmp_path, 18080, [18081, 18082], rate), encoding="utf-8")
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(config)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
