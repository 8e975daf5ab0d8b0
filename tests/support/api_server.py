"""Real HTTP servers for tests without a cluster: uvicorn in a thread, the API over the in-memory store."""

import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import uvicorn

from videomerge_api.app import create_app
from videomerge_api.clients import ROLE_CLIENT, client_entry
from videomerge_api.settings import ApiSettings
from videomerge_api.store_memory import MemoryMergeStore


class AppServer:
    """An ASGI app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        eventually(lambda: self._server.started, 20, "uvicorn to start")
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(15)
        self._socket.close()


class ApiServer(AppServer):
    """The VideoMerge API over the in-memory store; tests play operator and worker on ``store``.

    ``tokens`` (client name → token, ordinary clients) turns auth on with those clients; without, auth is
    explicitly off (a test server for one anonymous caller). Rate limit and quota are off unless set."""

    def __init__(
        self, store: MemoryMergeStore, tokens: dict[str, str] | None = None, **settings: Any
    ) -> None:
        self.store = store
        self._clients_dir = tempfile.TemporaryDirectory(prefix="vm-api-clients-")
        if tokens is None:
            settings.setdefault("auth_enabled", False)
        else:
            for name, token in tokens.items():
                (Path(self._clients_dir.name) / name).write_text(client_entry(ROLE_CLIENT, token))
            settings.setdefault("auth_clients_dir", self._clients_dir.name)
        settings.setdefault("rate_limit_per_second", 0)
        settings.setdefault("quota_max_active_merges", 0)
        super().__init__(create_app(ApiSettings(**settings), store))

    def __exit__(self, *_: object) -> None:
        super().__exit__()
        self._clients_dir.cleanup()


def eventually(check: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
