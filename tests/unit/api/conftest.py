"""The API over the in-memory store: an app per test, its cache synced by the real syncer thread.

Auth is on as in production: each test client carries a token of the registry written here (alice by
default). Rate limit and quota are off unless a test sets them, so tests may fire requests freely."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_unit_helpers import CLIENT_TOKENS, eventually, write_clients
from fastapi.testclient import TestClient

from videomerge_api.app import create_app
from videomerge_api.settings import ApiSettings
from videomerge_api.store_memory import MemoryMergeStore


@pytest.fixture
def store() -> MemoryMergeStore:
    return MemoryMergeStore()


@pytest.fixture
def clients_dir(tmp_path: Path) -> Path:
    return write_clients(tmp_path / "clients")


@pytest.fixture
def make_client(store: MemoryMergeStore, clients_dir: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(as_client: str | None = "alice", **overrides: Any) -> TestClient:
        overrides.setdefault("auth_clients_dir", str(clients_dir))
        overrides.setdefault("rate_limit_per_second", 0)
        overrides.setdefault("quota_max_active_merges", 0)
        app = create_app(ApiSettings(**overrides), store)
        headers = {"authorization": f"Bearer {CLIENT_TOKENS[as_client]}"} if as_client else {}
        client = TestClient(app, raise_server_exceptions=False, headers=headers)
        client.__enter__()
        clients.append(client)
        if app.state.service.cache is not None:
            eventually(lambda: app.state.service.cache.synced)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
