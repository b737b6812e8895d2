"""A real HTTP server on loopback standing in for a game's webhook endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from support.loopback import QuietHandler, serving
from support.waiting import wait_on


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200  # what to answer; tests change it
    delay: float = 0.0  # seconds to wait before answering
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, request: Received) -> int:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()
        return self.status

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until ``count`` requests arrived (or fail after ``timeout`` seconds)."""
        wait_on(
            self._changed,
            lambda: len(self.requests) >= count,
            what=lambda: f"{count} requests arrived (got {len(self.requests)})",
            within=timeout,
        )
        return list(self.requests)


def _handler(receiver: Receiver) -> type[QuietHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if receiver.delay:
                time.sleep(receiver.delay)  # a slow endpoint, as the test asked
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.record(Received(self.path, headers, body))
            self.reply(status, b"ok")

    return Handler


@contextmanager
def receiver(configure: Callable[[Receiver], None] | None = None) -> Iterator[Receiver]:
    """A receiver on a free loopback port, stopped at the end of the block."""
    placeholder = Receiver(url="")
    if configure:
        configure(placeholder)
    with serving(_handler(placeholder)) as server:
        placeholder.url = f"{server.url}/hook"
        yield placeholder
