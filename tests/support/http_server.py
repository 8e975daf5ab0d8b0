"""A threaded HTTP server on 127.0.0.1 that serves files from a folder, with misbehaviour on request.
``python3 http_server.py FOLDER PORT`` serves on every address (the kind tests' clip-server pod).

Query parameters on any file URL choose how it is served:
  status=N        answer N with a short body instead of the file
  redirect=URL    answer 302 to URL (repeat with hops=K: K redirects to itself before that)
  delay=S         wait S seconds before answering
  drip=S          send the body in 4 KiB pieces, S seconds apart
  fail=K          answer 503 to the first K requests for this exact URL, then serve it
  cut=N           declare the full length but close the connection after N bytes (first request only)
  ranges=0        ignore Range headers: always the whole file with 200
Ranges (``Range: bytes=a-`` and ``bytes=a-b``) are honoured with 206. Every request is recorded in ``requests``.
"""

import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

CHUNK = 64 * 1024
DRIP_CHUNK = 4 * 1024


@dataclass(frozen=True)
class Request:
    path: str
    query: str
    range: str | None


class FileServer:
    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = root
        self.requests: list[Request] = []
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        handler = _make_handler(self)
        self.httpd = _QuietServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="file-server", daemon=True)

    def url(self, name: str, **knobs: object) -> str:
        query = "&".join(f"{k}={v}" for k, v in knobs.items())
        return f"http://127.0.0.1:{self.port}/{name}" + (f"?{query}" if query else "")

    def hit(self, key: str) -> int:
        with self._lock:
            self._hits[key] += 1
            return self._hits[key]

    def __enter__(self) -> "FileServer":
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up early (the worker cancelling downloads) are expected, not errors."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _make_handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = (
            True  # as real servers do: no 40 ms stall on a small range behind its headers
        )

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            knobs = {k: v[0] for k, v in parse_qs(parts.query).items()}
            server.requests.append(Request(parts.path, parts.query, self.headers.get("Range")))
            hits = server.hit(self.path)
            time.sleep(float(knobs.get("delay", 0)))
            if "redirect" in knobs:
                hops = int(knobs.get("hops", 0))
                location = knobs["redirect"]
                if hops >= hits:
                    location = self.path
                return self._short(302, {"Location": location})
            if "status" in knobs:
                return self._short(int(knobs["status"]))
            if hits <= int(knobs.get("fail", 0)):
                return self._short(503)
            path = server.root / parts.path.lstrip("/")
            if not path.is_file() or server.root not in path.resolve().parents:
                return self._short(404)
            self._send_file(path, knobs, first=hits == 1)

        def _short(self, status: int, headers: dict[str, str] | None = None) -> None:
            body = f"status {status}\n".encode()
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send_file(self, path: Path, knobs: dict[str, str], *, first: bool) -> None:
            size = path.stat().st_size
            start, end, ranged = 0, size - 1, False
            range_header = self.headers.get("Range", "") if knobs.get("ranges") != "0" else ""
            if range_header.startswith("bytes=") and "-" in range_header:
                low, high = range_header[6:].split("-", 1)
                start, end, ranged = int(low), min(int(high), size - 1) if high else size - 1, True
                if start >= size or end < start:
                    return self._short(416)
            self.send_response(206 if ranged else 200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(end + 1 - start))
            if knobs.get("ranges") != "0":
                self.send_header("Accept-Ranges", "bytes")
            if ranged:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            self.wfile.flush()
            cut = int(knobs["cut"]) if "cut" in knobs and first else None
            drip = float(knobs.get("drip", 0))
            with path.open("rb") as f:
                if cut is None and not drip:
                    self.connection.sendfile(f, start, end + 1 - start)
                    return
                f.seek(start)
                sent = 0
                while sent < end + 1 - start and (
                    chunk := f.read(min(DRIP_CHUNK if drip else CHUNK, end + 1 - start - sent))
                ):
                    if cut is not None and sent + len(chunk) > cut:
                        self.wfile.write(chunk[: cut - sent])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    sent += len(chunk)
                    time.sleep(drip)

    return Handler


def serve(root: Path) -> FileServer:
    """``with serve(folder) as server: server.url("a.mp4")``."""
    return FileServer(root.resolve())


if __name__ == "__main__":
    FileServer(Path(sys.argv[1]).resolve(), host="0.0.0.0", port=int(sys.argv[2])).httpd.serve_forever()
