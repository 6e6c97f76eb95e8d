"""A scripted HTTP server on 127.0.0.1: fixed answers per route, every request recorded.

It stands in for servers that cannot run here (vLLM needs a GPU) or that misbehave on purpose
(a web server that is not llama.cpp). It checks wire formats only; behaviour is tested against
the real llama.cpp server.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = tuple[int, Any]  # (status, JSON body) or (200, SSE(list of events))


class SSE(list):  # type: ignore[type-arg]
    """A streamed answer: each item is sent as one ``data:`` event, then ``[DONE]``."""


class StubServer:
    def __init__(self, routes: dict[str, Route], *, raw: bytes | None = None) -> None:
        self.routes = routes
        self.raw = raw  # sent for every path instead (e.g. an HTML page)
        self.requests: list[tuple[str, str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                stub.requests.append((method, self.path, body))
                if stub.raw is not None:
                    self._send(200, stub.raw, "text/html")
                    return
                status, payload = stub.routes.get(f"{method} {self.path}", (404, {"error": "not found"}))
                if isinstance(payload, SSE):
                    events = [f"data: {json.dumps(e)}\n\n" for e in payload] + ["data: [DONE]\n\n"]
                    self._send(status, "".join(events).encode(), "text/event-stream")
                else:
                    self._send(status, json.dumps(payload).encode(), "application/json")

            def _send(self, status: int, data: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
