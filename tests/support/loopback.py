"""A real HTTP server on a free loopback port, in a thread, answering with the test's handler.

External services (webhook endpoints, game sites, itch.io, Steam) are stood in by real servers
so the code under test makes real requests. ``serving`` starts one for the length of a block:

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self.reply(200, b"ok")

    with serving(Handler) as server:
        httpx.get(server.url + "/anything")
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024  # relays and workers open hundreds of connections at once
    quiet_errors = False  # True: connections the client breaks on purpose are not printed
    scheme = "http"

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """``scheme://host:port``, without a trailing slash."""
        return f"{self.scheme}://{self.server_address[0]}:{self.port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not self.quiet_errors:
            super().handle_error(request, client_address)


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that logs nothing and has ``reply`` for the usual answer."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", **headers: str) -> None:
        """Send ``status``, ``headers`` (``Content_Type`` → ``Content-Type``) and ``body``."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


S = TypeVar("S", bound=LoopbackServer)


@contextmanager
def serving(
    handler: type[BaseHTTPRequestHandler],
    *,
    host: str = "127.0.0.1",
    tls: ssl.SSLContext | None = None,
    server_class: type[S] = LoopbackServer,  # type: ignore[assignment]
    quiet_errors: bool = False,
) -> Iterator[S]:
    """Serve ``handler`` on a free port of ``host`` until the end of the block."""
    server = server_class((host, 0), handler)
    server.quiet_errors = quiet_errors
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        server.scheme = "https"
    # A short poll interval: shutdown() waits up to one interval for the loop to notice.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    """A loopback port free right now, for servers that cannot be told to pick their own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
