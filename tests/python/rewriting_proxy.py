"""An HTTP proxy in front of a real server that can replace chosen answers.

For behaviour the server behind it cannot produce (an AccessDenied for one action, a stop reason
moto never sets): each answer is passed to a rewrite function that may return another.
"""

from __future__ import annotations

import http.server
import json
import socketserver
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

Reply = tuple[int, dict[str, Any]]
# Called with the operation, the request body and moto's answer (empty when moto answered with
# something other than a JSON object, e.g. for an operation it does not implement); returns the
# status and document to send instead, or None to pass moto's answer through.
Rewrite = Callable[[str, dict[str, Any], dict[str, Any]], Reply | None]


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, rewrite: Rewrite) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = upstream
        self.rewrite = rewrite


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
        }
        request = urllib.request.Request(
            self.server.upstream + self.path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, response.read()
                content_type = response.headers.get("Content-Type", "application/x-amz-json-1.1")
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
            content_type = error.headers.get("Content-Type", "application/x-amz-json-1.1")
        try:
            document = json.loads(payload) if payload else {}
        except ValueError:
            document = {}
        replaced = self.server.rewrite(
            operation,
            json.loads(body) if body else {},
            document if isinstance(document, dict) else {},
        )
        if replaced is not None:
            status, document = replaced
            payload = json.dumps(document).encode()
            content_type = "application/x-amz-json-1.1"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class RewritingProxy:
    """Serves on a free loopback port until close()."""

    def __init__(self, upstream: str, rewrite: Rewrite) -> None:
        self._server = _Server(upstream, rewrite)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def deny(*operations: str, service: str = "cloudwatch") -> Rewrite:
    """Answers each of `operations` with AccessDeniedException, as IAM words it."""

    def rewrite(operation: str, request: dict[str, Any], document: dict[str, Any]) -> Reply | None:
        if operation not in operations:
            return None
        return 400, {
            "__type": "AccessDeniedException",
            "message": f"User is not authorized to perform: {service}:{operation}",
        }

    return rewrite
