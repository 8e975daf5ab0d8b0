"""The API running in-process against the local cluster's real API server, and status writes as the
operator and worker would do them (merge patches of the status subresource)."""

import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from kubernetes import client
from support.api_clients import bearer, write_clients

from videomerge_api.app import create_app
from videomerge_api.settings import ApiSettings
from videomerge_contract.resource import GROUP, PLURAL, VERSION

URL_A = "http://127.0.0.1:9/a.mp4"  # loopback, closed port: nothing fetches them, and nothing could leave
URL_B = "http://127.0.0.1:9/b.mov"
BODY = {"video_urls": [URL_A, URL_B], "quality": "low", "aspect_ratio": "1:1", "fit": "crop"}
COMPLETED = {
    "phase": "Completed",
    "stage": "done",
    "progress": 100,
    "completionTime": "2026-01-01T12:00:00Z",
    "result": {
        "mergedUrl": "http://127.0.0.1:9/out.mp4?X-Amz-Signature=abc",
        "durationSeconds": 3.5,
        "processingTime": 1.25,
        "clipsMerged": 2,
    },
}
FAILED = {
    "phase": "Failed",
    "error": {"reason": "DownloadFailed", "message": f"clip 2 ({URL_B}): connection refused", "clipIndex": 1},
}


def wait_for(probe: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


CLIENTS_DIR = write_clients(Path(tempfile.mkdtemp(prefix="vm-api-clients-")))


@contextmanager
def running_api(
    kubeconfig: str, namespace: str, as_client: str | None = "alice", **overrides: Any
) -> Iterator[TestClient]:
    """The app with its lifespan (cache syncer thread) running, calling as ``as_client`` (auth on, the
    test clients of support.api_clients; limits off unless set); waits for the cache to sync."""
    overrides.setdefault("auth_clients_dir", CLIENTS_DIR)
    overrides.setdefault("rate_limit_per_second", 0)
    overrides.setdefault("quota_max_active_merges", 0)
    app = create_app(ApiSettings(kubeconfig=kubeconfig, namespace=namespace, **overrides))
    headers = bearer(as_client) if as_client else {}
    with TestClient(app, raise_server_exceptions=False, headers=headers) as api:
        cache = app.state.service.cache
        if cache is not None:
            wait_for(lambda: cache.synced, 15, "the cache to sync")
        yield api


def patch_status(custom: client.CustomObjectsApi, namespace: str, name: str, status: dict) -> None:
    custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        name,
        {"status": status},
        _content_type="application/merge-patch+json",
    )


def get_merge(custom: client.CustomObjectsApi, namespace: str, name: str) -> dict | None:
    try:
        return custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def count_merges(custom: client.CustomObjectsApi, namespace: str) -> int:
    return len(custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"])


def closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_kubeconfig(kubeconfig: str, folder: Path) -> str:
    """A copy of the kubeconfig whose server is a closed port on loopback."""
    data = yaml.safe_load(Path(kubeconfig).read_text())
    for entry in data["clusters"]:
        entry["cluster"]["server"] = f"https://127.0.0.1:{closed_loopback_port()}"
    path = folder / "unreachable.kubeconfig"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def reads(api: TestClient, source: str) -> float:
    value = api.app.state.metrics.registry.get_sample_value("videomerge_api_reads_total", {"source": source})
    return value or 0.0


def sync_events(api: TestClient, event: str) -> float:
    registry = api.app.state.metrics.registry
    return registry.get_sample_value("videomerge_api_cache_sync_events_total", {"event": event}) or 0.0
