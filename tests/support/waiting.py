"""Waiting in tests: on a condition, with a deadline, failing with what was awaited.

Never a bare sleep to let something happen: ``wait_until`` (a thread's view), ``until`` (a
test's event loop, the predicate plain or async) and ``wait_on`` (a ``threading.Condition``
that the producer notifies) return the predicate's first true value, or raise an
``AssertionError`` that names what never came (``what``: a text, or a function that says it
at the time of failure, e.g. with how far things got).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
What = str | Callable[[], str]

WITHIN = 10.0  # seconds: generous, CI machines are shared
EVERY = 0.01  # seconds between two looks


def wait_until(
    predicate: Callable[[], T],
    *,
    what: What,
    within: float = WITHIN,
    every: float = EVERY,
    check: Callable[[], object] | None = None,
) -> T:
    """Poll ``predicate`` until it is true; ``check`` runs on every look (e.g. a liveness probe)."""
    deadline = time.monotonic() + within
    while True:
        if check is not None:
            check()
        if value := predicate():
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(what, within)
        time.sleep(every)


async def until(
    predicate: Callable[[], T | Awaitable[T]],
    *,
    what: What,
    within: float = WITHIN,
    every: float = EVERY,
) -> T:
    """Poll ``predicate`` (plain or async) without blocking the loop, until it is true."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        value = await result if inspect.isawaitable(result) else result
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise _timed_out(what, within)
        await asyncio.sleep(every)


def wait_on(
    condition: threading.Condition,
    predicate: Callable[[], T],
    *,
    what: What,
    within: float = WITHIN,
) -> T:
    """Block until ``predicate`` holds, woken by ``condition.notify_all()`` from the producer."""
    with condition:
        value = condition.wait_for(predicate, within)
    if not value:
        raise _timed_out(what, within)
    return value


def _timed_out(what: What, within: float) -> AssertionError:
    said = what() if callable(what) else what
    return AssertionError(f"timed out after {within} s waiting until {said}")
