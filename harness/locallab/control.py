"""The control port of an emulated lab board (locallab/board.py), HTTP on 127.0.0.1.

Power follows labgrid's `simplerest` NetworkPowerPort backend: GET <host>/power/1 and /power/0
switch, GET /power answers "1" or "0" (labgrid formats `host` with value=1, 0 or ""). The rest
is ours: PUT /flash (an ELF body), POST /reset, POST /hang, GET /info (JSON). A request is handed
to the board's loop thread through a queue; the HTTP thread only waits for the answer.
"""

from __future__ import annotations

import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 << 20
_GET = {"/power": "power-get", "/power/1": "power-on", "/power/0": "power-off", "/info": "info"}
_POST = {"/reset": "reset", "/hang": "hang"}


def serve_control(port: int, requests: queue.Queue, wake) -> ThreadingHTTPServer:
    """Start the control server in a daemon thread; requests go to `requests`, then wake()."""

    class Handler(BaseHTTPRequestHandler):
        def _ask(self, op: str, body: bytes = b"") -> None:
            reply: queue.Queue = queue.Queue()
            requests.put((op, body, reply))
            wake()
            try:
                ok, value = reply.get(timeout=120)
            except queue.Empty:
                ok, value = False, "the board did not answer within 120 s"
            text = json.dumps(value) if isinstance(value, dict) else str(value)
            self._send(200 if ok else 500, text)

        def _send(self, code: int, text: str) -> None:
            data = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            op = _GET.get(self.path.rstrip("/") or "/")
            self._ask(op) if op else self._send(404, "unknown path")

        def do_POST(self) -> None:  # noqa: N802
            op = _POST.get(self.path)
            self._ask(op) if op else self._send(404, "unknown path")

        def do_PUT(self) -> None:  # noqa: N802
            n = int(self.headers.get("Content-Length") or 0)
            if self.path != "/flash":
                return self._send(404, "unknown path")
            if not 0 < n <= MAX_BODY:
                return self._send(413, f"the image must be 1 byte to {MAX_BODY} bytes")
            self._ask("flash", self.rfile.read(n))

        def log_message(self, *args) -> None:  # quiet: the lab log is the exporter's
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="control", daemon=True).start()
    return server
