"""A pass-through HTTP proxy, run as its own process, that counts the AWS operations it forwards.

The same idea as tests/python/counting_proxy.py (every request forwarded unchanged, the Host
header too, so SigV4 signatures stay valid; the operation is the X-Amz-Target suffix or the
query protocol's Action), but in a separate process so that the CPU time a benchmark measures in
its own process is not inflated by the proxy's threads. ``GET /_counts`` answers the counts as
JSON; ``GET /_counts?reset=1`` answers them and starts over.

Usage: ``python bench/proxy_process.py UPSTREAM_URL PORT_FILE``
"""

from __future__ import annotations

import http.client
import http.server
import json
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _answer(self, status: int, payload: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        if not self.path.startswith("/_counts"):
            self._answer(404, b"", [])
            return
        with self.server.lock:
            payload = json.dumps(dict(self.server.counts)).encode()
            if "reset=1" in self.path:
                self.server.counts.clear()
        self._answer(200, payload, [("Content-Type", "application/json")])

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        if not operation:
            form = urllib.parse.parse_qs(body.decode(errors="replace"))
            operation = (form.get("Action") or ["?"])[0]
        with self.server.lock:
            self.server.counts[operation] += 1
        upstream = http.client.HTTPConnection(
            self.server.upstream_host, self.server.upstream_port, timeout=120
        )
        try:
            upstream.request("POST", self.path, body=body, headers=dict(self.headers.items()))
            response = upstream.getresponse()
            self._answer(response.status, response.read(), response.getheaders())
        finally:
            upstream.close()


class ProxyProcess:
    """The proxy as a child process; ``counts(reset=True)`` reads and clears its counters."""

    def __init__(self, upstream: str, work_dir: Path) -> None:
        port_file = work_dir / "proxy.port"
        port_file.unlink(missing_ok=True)
        self.process = subprocess.Popen([sys.executable, __file__, upstream, str(port_file)])
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the counting proxy did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{int(port_file.read_text().strip())}"

    def counts(self, reset: bool = False) -> dict[str, int]:
        suffix = "?reset=1" if reset else ""
        with urllib.request.urlopen(f"{self.url}/_counts{suffix}", timeout=30) as response:
            counts: dict[str, int] = json.loads(response.read())
        return counts

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def main() -> None:
    upstream, port_file = sys.argv[1], Path(sys.argv[2])
    server = _Server(upstream)
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(server.server_address[1]))
    tmp.rename(port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
