"""Fixtures of the CLI's unit tests: a real API server over the in-memory store, a terminal, a file server."""

import functools
import http.server
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.api_server import ApiServer
from support.terminal import CLI, Terminal

from videomerge_api.store_memory import MemoryMergeStore


@pytest.fixture
def store() -> MemoryMergeStore:
    return MemoryMergeStore()


@pytest.fixture
def api(store: MemoryMergeStore) -> Iterator[ApiServer]:
    with ApiServer(store) as server:
        yield server


@pytest.fixture
def cli_env(api: ApiServer) -> dict[str, str]:
    # The interpreter's own path so `python -m videomerge_cli` finds the venv; colours as a person sees them.
    return {"VIDEOMERGE_URL": api.url, "PATH": os.environ["PATH"], "TERM": "xterm-256color", "HOME": "/tmp"}


@pytest.fixture
def terminal(tmp_path: Path, cli_env: dict[str, str]) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(*args: str, env: dict[str, str] | None = None) -> Terminal:
        term = Terminal([*CLI, *args], cli_env | (env or {}), tmp_path)
        opened.append(term)
        return term

    yield open_terminal
    for term in opened:
        term.close()


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serves ``tmp_path/served`` on loopback: where a test's "merged file" lives."""
    served = tmp_path / "served"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(served))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()
    server.server_close()
