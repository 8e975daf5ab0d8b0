"""--kube prints exactly what the API answers: the same VideoMerge objects read through the CLI's cluster
path (``videomerge --kube … --output json``, the kubernetes client stood in for) and through the API's
handlers (FastAPI TestClient over the in-memory store) give the same JSON, field for field."""

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api_server import eventually
from support.statuses import COMPLETED_STATUS, FAILED_STATUS, NOW, URL_A, URL_B

from videomerge_api.app import create_app
from videomerge_api.settings import ApiSettings
from videomerge_api.store_memory import MemoryMergeStore
from videomerge_cli import kube
from videomerge_cli.main import run

pytestmark = pytest.mark.unit

PICTURES = {
    "posterUrl": "https://s3.local/bucket/out.poster.jpg?X-Amz-Signature=p",
    "storyboardUrl": "https://s3.local/bucket/out.storyboard.jpg?X-Amz-Signature=t",
}
DELIVERED = {"state": "Delivered", "event": "merge.completed", "attempts": 2, "deliveredAt": NOW}
# The merges by name (names sort as the list's tie-break: they are created within one second).
STATUSES: dict[str, dict[str, Any] | None] = {
    "vm-a-pending": None,
    "vm-b-queued": {
        "phase": "Queued",
        "stage": "queued",
        "queuePosition": 2,
        "message": "waiting for a slot",
    },
    "vm-c-processing": {
        "phase": "Processing",
        "stage": "downloading",
        "progress": 12,
        "attempts": 1,
        "message": "downloaded 1/2 clips, 3 MiB",
    },
    "vm-d-completed": COMPLETED_STATUS
    | {"result": COMPLETED_STATUS["result"] | PICTURES, "attempts": 1, "notification": DELIVERED},
    "vm-e-failed": FAILED_STATUS | {"completionTime": NOW},
    # A status the contract's models refuse (a hand edit): both read it as its bare phase.
    "vm-f-misfit": {"phase": "Processing", "progress": 900},
}
FINISHED = ("vm-d-completed", "vm-e-failed")
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
"""


class FakeCustomObjects:
    """The kubernetes client's CustomObjectsApi, answering from the store the API reads too."""

    def __init__(self, store: MemoryMergeStore) -> None:
        self.store = store
        self.api_client = SimpleNamespace(close=lambda: None)

    def get_namespaced_custom_object(self, *args: str, **_: object) -> dict[str, Any]:
        return self.store.get(args[-1])

    def list_namespaced_custom_object(self, *_: object, **__: object) -> dict[str, Any]:
        return {"items": self.store.list(1000).items}


@pytest.fixture
def store() -> MemoryMergeStore:
    store = MemoryMergeStore()
    for name, status in STATUSES.items():
        store.create({"metadata": {"name": name}, "spec": {"videoUrls": [URL_A, URL_B]}})
        if status:
            store.patch_status(name, status)
    return store


@pytest.fixture
def api(store: MemoryMergeStore) -> Iterator[TestClient]:
    app = create_app(ApiSettings(auth_enabled=False, rate_limit_per_second=0), store)
    with TestClient(app, raise_server_exceptions=False) as client:
        eventually(lambda: app.state.service.cache.synced, 10, "the API's cache")
        yield client


@pytest.fixture
def kube_cli(
    store: MemoryMergeStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:
    config = tmp_path / "kubeconfig"
    config.write_text(KUBECONFIG)
    monkeypatch.setattr(kube.client, "CustomObjectsApi", lambda _api_client: FakeCustomObjects(store))

    def videomerge(*args: str) -> tuple[int, Any]:
        capsys.readouterr()
        code = run(["--kube", "--kubeconfig", str(config), "--output", "json", *args], prog="videomerge")
        captured = capsys.readouterr()
        return code, json.loads(captured.out) if captured.out else None

    return videomerge


@pytest.mark.parametrize("name", list(STATUSES))
def test_status_reads_the_same_through_kube_and_the_api(api: TestClient, kube_cli: Any, name: str) -> None:
    answer = api.get(f"/api/v1/merge/{name}/status")
    assert answer.status_code == 200, answer.text
    code, printed = kube_cli("status", name)
    assert printed == answer.json()
    assert code == (1 if name == "vm-e-failed" else 0)


@pytest.mark.parametrize("name", FINISHED)
def test_result_reads_the_same_through_kube_and_the_api(api: TestClient, kube_cli: Any, name: str) -> None:
    answer = api.get(f"/api/v1/merge/{name}/result")
    assert answer.status_code == 200, answer.text
    code, printed = kube_cli("result", name)
    # The CLI names the merge in its JSON on both ways in (the API's body is the merge's own URL's).
    assert printed == {"task_id": name, **answer.json()}
    assert code == (0 if name == "vm-d-completed" else 1)


def test_the_pictures_and_the_clip_at_fault_reach_the_kube_output(kube_cli: Any) -> None:
    _, completed = kube_cli("result", "vm-d-completed")
    assert (completed["poster_url"], completed["storyboard_url"]) == tuple(PICTURES.values())
    _, failed = kube_cli("result", "vm-e-failed")
    assert (failed["reason"], failed["clip_index"], failed["clip_url"]) == ("DownloadFailed", 1, URL_B)


@pytest.mark.parametrize("name", [n for n in STATUSES if n not in FINISHED])
def test_an_unfinished_merge_has_no_result_either_way(api: TestClient, kube_cli: Any, name: str) -> None:
    assert api.get(f"/api/v1/merge/{name}/result").status_code == 409
    code, printed = kube_cli("result", name)
    assert (code, printed) == (2, None)


@pytest.mark.parametrize("status", [None, "pending", "processing", "completed", "failed"])
def test_list_rows_are_the_same_through_kube_and_the_api(
    api: TestClient, kube_cli: Any, status: str | None
) -> None:
    answer = api.get("/api/v1/merge", params={"limit": 50} | ({"status": status} if status else {}))
    assert answer.status_code == 200, answer.text
    rows = answer.json()["items"]
    assert rows, "every status has a merge here"
    _, printed = kube_cli("list", *(["--status", status] if status else []))
    assert printed == rows


def test_the_misfit_status_reads_as_its_phase(kube_cli: Any) -> None:
    _, printed = kube_cli("status", "vm-f-misfit")
    assert (printed["status"], printed["message"], printed["progress"]) == (
        "processing",
        "status details unavailable",
        0,
    )
