"""Shared bits of the API unit tests: bodies, statuses as the operator writes them, waiting."""

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from support.api_clients import CLIENT_TOKENS, bearer, write_clients
from support.statuses import COMPLETED_STATUS, FAILED_STATUS, NOW, URL_A, URL_B

__all__ = [
    "CLIENT_TOKENS",
    "COMPLETED_STATUS",
    "FAILED_STATUS",
    "NOW",
    "URL_A",
    "URL_B",
    "bearer",
    "write_clients",
]

BODY = {"video_urls": [URL_A, URL_B], "quality": "medium", "aspect_ratio": "9:16"}


def eventually(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout}s: {probe}")


def create(client: TestClient, body: dict[str, Any] | None = None, **headers: str) -> str:
    response = client.post("/api/v1/merge", json=body or BODY, headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["task_id"])
