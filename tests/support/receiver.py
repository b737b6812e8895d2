"""A real HTTP server on loopback standing in for a game's webhook endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"got {len(self.requests)} requests, expected {count}")
                self._changed.wait(left)
            return list(self.requests)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if receiver.delay:
                time.sleep(receiver.delay)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.record(Received(self.path, headers, body))
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def receiver(configure: Callable[[Receiver], None] | None = None) -> Iterator[Receiver]:
    """A receiver on a free loopback port, stopped at the end of the block."""
    placeholder = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(placeholder))
    server.daemon_threads = True
    placeholder.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    if configure:
        configure(placeholder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield placeholder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
