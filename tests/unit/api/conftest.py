"""The API over the in-memory store: an app per test, its cache synced by the real syncer thread."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_unit_helpers import eventually
from fastapi.testclient import TestClient

from videomerge_api.app import create_app
from videomerge_api.settings import ApiSettings
from videomerge_api.store_memory import MemoryMergeStore


@pytest.fixture
def store() -> MemoryMergeStore:
    return MemoryMergeStore()


@pytest.fixture
def make_client(store: MemoryMergeStore) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        app = create_app(ApiSettings(**overrides), store)
        client = TestClient(app, raise_server_exceptions=False)
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
