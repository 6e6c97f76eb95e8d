"""A small JSON/SSE client on the standard library, with every failure turned into one line.

The standard library is enough for an OpenAI-style server, keeps the frozen app small, and
lets each failure (refused, timed out, not JSON, HTTP error) be named precisely: a teacher
pointing TA Lab at the wrong port must read what is wrong, not a urllib traceback.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Generator
from typing import Any
from urllib.parse import urlsplit

from engine.errors import ServerError


def normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerError(f"--server must be an http:// address such as http://127.0.0.1:8080, not {url!r}")
    return url


class Http:
    """One server's base URL plus the timeout that applies to every request."""

    def __init__(self, url: str, *, timeout_s: float = 120.0) -> None:
        self.url = normalise_url(url)
        self.timeout_s = timeout_s

    def _open(self, method: str, path: str, body: Any = None) -> http.client.HTTPResponse:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Accept", "application/json, text/event-stream")
        try:
            return urllib.request.urlopen(req, timeout=self.timeout_s)
        except urllib.error.HTTPError as exc:
            raise ServerError(self._http_error(method, path, exc), status=exc.code) from None
        except urllib.error.URLError as exc:
            raise ServerError(self._unreachable(exc.reason)) from None
        except TimeoutError:
            raise ServerError(self._timed_out()) from None
        except (ConnectionError, http.client.HTTPException) as exc:
            raise ServerError(self._unreachable(exc)) from None

    def _timed_out(self) -> str:
        return f"{self.url} did not answer within {self.timeout_s:g} s; is the server overloaded or stuck?"

    def _unreachable(self, reason: object) -> str:
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return self._timed_out()
        if isinstance(reason, ConnectionRefusedError):
            return (
                f"Nothing is listening at {self.url} (connection refused); start the server "
                "(talab serve --start) or check --server"
            )
        if isinstance(reason, socket.gaierror):
            return f"Cannot resolve the host of {self.url} ({reason.strerror}); check --server"
        return f"Cannot reach {self.url}: {reason}"

    def _http_error(self, method: str, path: str, exc: urllib.error.HTTPError) -> str:
        detail = ""
        try:
            payload = json.loads(exc.read() or b"{}")
            err = payload.get("error", payload) if isinstance(payload, dict) else {}
            detail = str(err.get("message", "")) if isinstance(err, dict) else str(err)
        except (ValueError, OSError):
            pass
        if exc.code == 503 and "loading" in detail.lower():
            return f"The server at {self.url} is still loading its model; try again in a moment"
        if exc.code == 404:
            return (
                f"{self.url} is not a llama.cpp server or vLLM ({method} {path} answered 404); "
                "check the address and port"
            )
        said = f": {detail.splitlines()[0]}" if detail else ""
        return f"The server at {self.url} refused {method} {path} (HTTP {exc.code}){said}"

    def _read_json(self, resp: http.client.HTTPResponse, path: str) -> Any:
        try:
            with resp:
                return json.loads(resp.read())
        except TimeoutError:
            raise ServerError(self._timed_out()) from None
        except ValueError:
            raise ServerError(
                f"{self.url}{path} did not answer with JSON; it is not a llama.cpp server or vLLM"
            ) from None

    def get(self, path: str) -> Any:
        return self._read_json(self._open("GET", path), path)

    def post(self, path: str, body: Any) -> Any:
        return self._read_json(self._open("POST", path, body), path)

    def stream(self, path: str, body: Any) -> Generator[dict[str, Any], None, None]:
        """Server-sent events as dicts; closing the generator closes the connection (cancels)."""
        resp = self._open("POST", path, body)
        try:
            for raw in resp:
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    event = json.loads(data)
                except ValueError:
                    raise ServerError(
                        f"{self.url}{path} sent a malformed stream event: {data[:80]}"
                    ) from None
                if isinstance(event, dict) and "error" in event:
                    err = event["error"]
                    msg = err.get("message", err) if isinstance(err, dict) else err
                    raise ServerError(f"The server at {self.url} failed mid-answer: {msg}")
                yield event
        except TimeoutError:
            raise ServerError(self._timed_out()) from None
        except (ConnectionError, http.client.HTTPException) as exc:
            raise ServerError(f"The server at {self.url} went away mid-answer ({exc})") from None
        finally:
            resp.close()

    def has_llama_props(self) -> bool:
        """llama-server answers /props with its build and model path; vLLM has no such route."""
        try:
            props = self.get("/props")
        except ServerError as exc:
            if exc.status == 404:
                return False
            raise
        return isinstance(props, dict) and ("model_path" in props or "build_info" in props)
