"""A stand-in for the Kubernetes API server on loopback, serving one VideoMerge's status subresource, with
faults on request: answer 500, or hang (then drop the connection), for the requests a rule picks.

Reads and merge patches behave as the real server's do: a patch naming a resourceVersion other than the
current one is refused with 409, every accepted patch bumps it.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from videomerge_contract.resource import GROUP, PLURAL, VERSION

Picks = Callable[[str, dict[str, Any]], bool]  # (method, body) → whether the fault applies


@dataclass
class Fault:
    picks: Picks
    action: str  # "500" or "hang"
    times: int = 1_000_000
    hang_seconds: float = 5.0
    hits: int = 0


@dataclass
class FakeApi:
    namespace: str
    name: str
    spec: dict[str, Any]
    status: dict[str, Any] = field(default_factory=dict)
    resource_version: int = 1
    faults: list[Fault] = field(default_factory=list)
    patches: list[dict[str, Any]] = field(default_factory=list)  # every patch received, answered or not
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def path(self) -> str:
        return f"/apis/{GROUP}/{VERSION}/namespaces/{self.namespace}/{PLURAL}/{self.name}/status"

    def object(self) -> dict[str, Any]:
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "VideoMerge",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "resourceVersion": str(self.resource_version),
            },
            "spec": self.spec,
            "status": self.status,
        }

    def fault_for(self, method: str, body: dict[str, Any]) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.hits < fault.times and fault.picks(method, body):
                    fault.hits += 1
                    return fault
        return None

    def apply(self, patch: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            wanted = (patch.get("metadata") or {}).get("resourceVersion")
            if wanted is not None and wanted != str(self.resource_version):
                return 409, {"kind": "Status", "code": 409, "reason": "Conflict", "message": "conflict"}
            for key, value in (patch.get("status") or {}).items():
                if value is None:
                    self.status.pop(key, None)
                else:
                    self.status[key] = value
            self.resource_version += 1
            return 200, self.object()


def phase_is(phase: str) -> Picks:
    return lambda method, body: method == "PATCH" and (body.get("status") or {}).get("phase") == phase


def progress_patches(method: str, body: dict[str, Any]) -> bool:
    """Progress reports (not the first "starting" write)."""
    status = body.get("status") or {}
    return (
        method == "PATCH"
        and status.get("phase") == "Processing"
        and "progress" in status
        and status.get("stage") != "starting"
    )


def serve_api(fake: FakeApi) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            if self.path.split("?")[0] != fake.path:
                self._answer(404, {"kind": "Status", "code": 404})
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if method == "PATCH":
                with fake.lock:
                    fake.patches.append(body)
            fault = fake.fault_for(method, body)
            if fault is not None and fault.action == "hang":
                time.sleep(fault.hang_seconds)
                self.close_connection = True
                return
            if fault is not None:
                self._answer(500, {"kind": "Status", "code": 500, "message": "injected"})
                return
            if method == "GET":
                with fake.lock:
                    self._answer(200, fake.object())
            else:
                self._answer(*fake.apply(body))

        def do_GET(self) -> None:
            self._handle("GET")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
