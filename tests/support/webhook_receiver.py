"""A webhook receiver on 127.0.0.1 for the notifier's tests: records every POST, misbehaves on request.

Each path has its own behaviour, chosen with ``receiver.url(path, …)``:
  fail=K      answer 500 to the first K POSTs to this path, then 204
  status=N    always answer N
  hang=1      never answer (until the receiver is closed)
"""

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Delivered:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | None  # None: left hanging


class WebhookReceiver:
    def __init__(self) -> None:
        self.posts: list[Delivered] = []
        self._rules: dict[str, dict[str, int]] = {}
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self.closing = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="webhook-receiver", daemon=True)

    def url(self, path: str, *, fail: int = 0, status: int = 0, hang: bool = False) -> str:
        self._rules[path] = {"fail": fail, "status": status, "hang": int(hang)}
        return f"http://127.0.0.1:{self.port}/{path}"

    def to(self, path: str) -> list[Delivered]:
        with self._lock:
            return [p for p in self.posts if p.path == f"/{path}"]

    def _answer(self, path: str) -> int | None:
        rule = self._rules.get(path.lstrip("/"), {})
        with self._lock:
            self._hits[path] = self._hits.get(path, 0) + 1
            hit = self._hits[path]
        if rule.get("hang"):
            return None
        if rule.get("status"):
            return rule["status"]
        return 500 if hit <= rule.get("fail", 0) else 204

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            code = receiver._answer(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver._lock:
                receiver.posts.append(Delivered(self.path, headers, body, code))
            if code is None:
                receiver.closing.wait(120)
                return
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
