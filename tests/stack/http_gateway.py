"""A loopback HTTP server that hands each request to a function: the one place the tests' fakes
in front of a real server (a slow or mangling proxy, an auth gateway) receive and answer HTTP.
Each fake says in its own docstring why it is one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.stack.processes import LOOPBACK


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Message  # names case-insensitive, as HTTP has them
    body: bytes | None


@dataclass(frozen=True)
class Answer:
    status: int
    payload: bytes
    content_type: str = "application/json"


# None: send nothing (the gateway is stopping, or the client is to be left waiting).
Handler = Callable[[Request], Answer | None]


class LoopbackGateway:
    """Serves GET and POST on 127.0.0.1 (a free port) from `handle`, on daemon threads; a
    context manager that starts and stops it."""

    def __init__(self, handle: Handler) -> None:
        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._serve(None)

            def do_POST(self) -> None:
                self._serve(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _serve(self, body: bytes | None) -> None:
                answer = handle(Request(self.command, self.path, self.headers, body))
                if answer is None:
                    return
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(answer.payload)))
                    self.end_headers()
                    self.wfile.write(answer.payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
        self.server.daemon_threads = True
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LoopbackGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LoopbackGateway:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
