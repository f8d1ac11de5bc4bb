"""A loopback HTTP server that answers from a script of faults, for retry and timeout tests."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    """One scripted answer. kind: ok | error | status | reset | slow | truncate | malformed."""

    kind: str
    status: int = 200
    body: Any = None
    delay: float = 0.0


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        return self.headers.get("x-amz-target", "")


@dataclass
class FaultServer:
    script: deque[Fault] = field(default_factory=deque)
    default: Fault = field(default_factory=lambda: Fault("ok", body={}))
    requests: list[SeenRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, *faults: Fault) -> None:
        with self.lock:
            self.script.extend(faults)

    def next_fault(self) -> Fault:
        with self.lock:
            return self.script.popleft() if self.script else self.default

    def start(self) -> str:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with server.lock:
                    server.requests.append(
                        SeenRequest(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                self.answer(server.next_fault())

            do_GET = do_POST

            def send_json(self, status: int, document: Any, raw: bytes | None = None) -> None:
                payload = raw if raw is not None else json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("x-amzn-RequestId", "req-0001")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def answer(self, fault: Fault) -> None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.kind == "ok":
                    self.send_json(200, fault.body or {})
                elif fault.kind == "error":
                    self.send_json(fault.status, fault.body)
                elif fault.kind == "status":
                    raw = (fault.body or "<html>Bad Gateway</html>").encode()
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                elif fault.kind == "reset":
                    # SO_LINGER with a zero timeout makes close() send RST.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                elif fault.kind == "truncate":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b'{"ReplicationTasks": [')
                    self.wfile.flush()
                    self.close_connection = True
                elif fault.kind == "malformed":
                    self.send_json(200, None, raw=b"{this is not json")
                elif fault.kind == "slow":
                    self.send_json(200, fault.body or {})
                else:
                    raise ValueError(fault.kind)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
