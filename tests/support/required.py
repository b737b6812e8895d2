"""What a test needs from the machine: skipped with the reason locally, a failure in CI.

A developer without PostgreSQL, NATS, Node.js or Chromium still runs the rest of the suite and
sees why some tests did not run; with ``CI=true`` nothing may be skipped for want of a tool.
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str, *, hint: str = "") -> NoReturn:
    """Skip the test (``reason``, then ``hint`` on how to get it) locally; fail it with CI=true."""
    if IN_CI:
        pytest.fail(f"{reason}; CI requires it", pytrace=False)
    pytest.skip(f"{reason}; {hint}" if hint else reason)


def require_service(name: str, url: str, default_port: int, *, hint: str = "") -> str:
    """Return ``url`` if something listens there, else skip (fail in CI) with the reason."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return url
    except OSError:
        unavailable(f"{name} is not reachable at {url}", hint=hint or "start it to run this test")


def require_tool(name: str, *, hint: str) -> str:
    """The path of executable ``name``, or skip (fail in CI) saying how to install it."""
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed", hint=hint)
    return found
