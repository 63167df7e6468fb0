"""Bounded waits shared by the tests that drive real processes."""

from __future__ import annotations

import subprocess
import time
from typing import Callable


def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    """Poll `condition` until it holds; fail the test after `within` seconds, saying `what`."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        time.sleep(0.05)


def stop(process: subprocess.Popen, grace: float = 15.0) -> None:
    """Terminate a child process, killing it if it is still there after `grace` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
