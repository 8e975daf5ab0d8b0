"""Helpers for tests that drive merges through the REST API of an installation."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from support.http_server import FileServer
from support.media import ClipSpec

API_URL = "http://127.0.0.1:8080"
# Three shapes: landscape with audio, portrait without audio, 4:3 with 44.1 kHz audio.
CLIPS = {
    "landscape.mp4": ClipSpec(width=640, height=360, fps="30", seconds=2.0),
    "portrait.mov": ClipSpec(width=360, height=640, fps="25", seconds=1.5, acodec=None, container="mov"),
    "classic.mkv": ClipSpec(width=480, height=360, fps="24", seconds=1.0, sample_rate=44100, container="mkv"),
}


@dataclass
class Observed:
    statuses: list[str] = field(default_factory=list)
    final: dict = field(default_factory=dict)


def follow(api: httpx.Client, task_id: str, timeout: float = 240) -> Observed:
    """Polls the status endpoint until the merge ends; records every status word seen."""
    seen = Observed()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"/api/v1/merge/{task_id}/status")
        assert response.status_code == 200, response.text
        body = response.json()
        if not seen.statuses or seen.statuses[-1] != body["status"]:
            seen.statuses.append(body["status"])
        if body["status"] in ("completed", "failed"):
            seen.final = body
            return seen
        time.sleep(0.3)
    raise AssertionError(f"merge {task_id} did not end within {timeout}s; statuses seen: {seen.statuses}")


def merge_body(server: FileServer, names: list[str], **extra: object) -> dict:
    return {"video_urls": [server.url(name) for name in names], **extra}


def clip_seconds() -> float:
    return sum(spec.seconds for spec in CLIPS.values())


def wait(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def download(url: str, to: Path) -> Path:
    with httpx.stream("GET", url, timeout=60) as response:
        response.raise_for_status()
        to.write_bytes(response.read())
    return to
