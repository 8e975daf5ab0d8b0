"""Memory of an API replica holding many merges in its watch cache: RSS per cached merge.

Each case runs in a fresh process: the real app (create_app, its syncer thread and cache) over a store that
lists N VideoMerges page by page, generated on the fly as the API server would send them (so the store
itself holds nothing): 50 clip URLs of 2 KB each in the spec (the issue's hostile client), managedFields of
three writers, a completed status with a presigned URL and its conditions. Once the cache is synced every
merge's status is rendered once (what polling does) and the list is read once; then RSS (VmRSS) is taken.
Baseline, side by side: the same app with a cache that keeps whole objects, as before.

Run:  .venv/bin/python bench/api/bench_api_memory.py [--merges 10000] [--baseline-merges 2000]
The baseline is measured on fewer merges (a whole object is ~120 KB: 10,000 would need ~1.2 GB) and
compared per merge.
"""

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

URL = "https://cdn.example.com/clips/" + "x" * 1970 + "/{i}-{n}.mp4"  # ~2 KB each
PAGE = 500


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def video_merge(i: int) -> dict[str, Any]:
    name = f"vm-{i:020x}"
    when = "2026-01-01T12:00:00Z"
    managed = [
        {
            "manager": who,
            "operation": "Update",
            "apiVersion": "videomerge.io/v1alpha1",
            "time": when,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:status": {
                    f"f:{k}": {}
                    for k in (
                        "phase",
                        "stage",
                        "progress",
                        "result",
                        "conditions",
                        "message",
                        "attempts",
                        "startTime",
                        "completionTime",
                    )
                }
            },
        }
        for who in ("videomerge-api", "videomerge-operator", "videomerge-worker")
    ]
    return {
        "apiVersion": "videomerge.io/v1alpha1",
        "kind": "VideoMerge",
        "metadata": {
            "name": name,
            "namespace": "media",
            "uid": f"00000000-0000-4000-8000-{i:012x}",
            "resourceVersion": str(1000 + i),
            "generation": 1,
            "creationTimestamp": when,
            "labels": {
                "app.kubernetes.io/name": "videomerge",
                "app.kubernetes.io/part-of": "videomerge",
                "videomerge.io/owner": f"client-{i % 50}",
            },
            "annotations": {
                "videomerge.io/request-hash": "a" * 64,
                "videomerge.io/owner": f"client-{i % 50}",
            },
            "managedFields": managed,
        },
        "spec": {
            "videoUrls": [URL.format(i=i, n=n) for n in range(50)],
            "quality": "high",
            "aspectRatio": "16:9",
            "fit": "pad",
        },
        "status": {
            "phase": "Completed",
            "stage": "done",
            "progress": 100,
            "message": "Merge completed",
            "attempts": 1,
            "clips": 50,
            "jobName": name,
            "observedGeneration": 1,
            "startTime": when,
            "completionTime": when,
            "result": {
                "mergedUrl": f"https://s3.example.com/videomerge/merges/media/{name}.mp4?X-Amz-Algorithm="
                "AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
                "&X-Amz-Date=20260101T120000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                "&X-Amz-Signature=" + "f" * 64,
                "durationSeconds": 123.4,
                "processingTime": 12.3,
                "clipsMerged": 50,
                "sizeBytes": 123456789,
                "width": 1920,
                "height": 1080,
                "strategy": "copy",
            },
            "conditions": [
                {
                    "type": t,
                    "status": "True",
                    "reason": r,
                    "message": f"{t}: the merge's {r}",
                    "lastTransitionTime": when,
                    "observedGeneration": 1,
                }
                for t, r in (("JobCreated", "Created"), ("Complete", "Completed"), ("Failed", "NotFailed"))
            ],
        },
    }


class GeneratedStore:
    """A MergeStore whose list pages are made on demand (nothing retained); its watch idles until closed."""

    namespace = "media"

    def __init__(self, count: int) -> None:
        self.count = count

    def list(self, limit: int, continue_token: str | None = None):
        from videomerge_api.store import ListPage

        start = int(continue_token or 0)
        end = min(self.count, start + limit)
        return ListPage(
            items=[video_merge(i) for i in range(start, end)],
            resource_version="1",
            continue_token=str(end) if end < self.count else None,
        )

    def watch(self, resource_version: str, timeout_seconds: int):
        return IdleWatch()

    def get(self, name: str) -> dict[str, Any]:
        return video_merge(int(name.removeprefix("vm-"), 16))

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        raise NotImplementedError

    def ping(self) -> None:
        pass


class IdleWatch:
    def __init__(self) -> None:
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[Any]:
        self._closed.wait()
        return iter(())

    def close(self) -> None:
        self._closed.set()


def measure(count: int, whole_objects: bool) -> dict[str, float]:
    """In this process: RSS with ``count`` merges cached (whole objects: the old cache, as baseline)."""
    from fastapi.testclient import TestClient
    from support.api_clients import bearer, write_clients

    from videomerge_api import cache as cache_module
    from videomerge_api import views
    from videomerge_api.app import create_app
    from videomerge_api.settings import ApiSettings

    if whole_objects:
        cache_module.essentials = lambda obj: obj  # type: ignore[assignment]
        import videomerge_api.syncer as syncer_module

        syncer_module.essentials = lambda obj: obj  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        settings = ApiSettings(auth_clients_dir=write_clients(Path(tmp) / "clients"), rate_limit_per_second=0)
        app = create_app(settings, GeneratedStore(count))  # type: ignore[arg-type]
        gc.collect()
        before = rss_mb()
        started = time.monotonic()
        with TestClient(app, headers=bearer("admin")) as client:
            cache = app.state.service.cache
            while not cache.synced:
                time.sleep(0.05)
            synced_s = time.monotonic() - started
            for obj in cache.objects():  # every merge polled once: its status rendered and kept
                views.status_json(obj)
            listed = client.get("/api/v1/merge", params={"limit": 500})
            assert listed.status_code == 200 and len(listed.json()["items"]) == min(500, count)
            one = client.get(f"/api/v1/merge/vm-{count - 1:020x}/result")
            assert one.status_code == 200 and one.json()["success"] is True
            gc.collect()
            after = rss_mb()
            assert len(cache) == count
    return {
        "merges": count,
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "kb_per_merge": round((after - before) * 1024 / count, 2),
        "sync_s": round(synced_s, 2),
    }


def run_case(count: int, whole_objects: bool) -> dict[str, float]:
    args = [sys.executable, __file__, "--case", str(count)] + (["--whole-objects"] if whole_objects else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--merges", type=int, default=10_000)
    parser.add_argument("--baseline-merges", type=int, default=2_000)
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--whole-objects", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(measure(args.case, args.whole_objects)))
        return
    merges, baseline_merges = min(args.merges, 20_000), min(args.baseline_merges, 5_000)  # bounded
    essentials = run_case(merges, whole_objects=False)
    baseline = run_case(baseline_merges, whole_objects=True)
    results = {
        "essentials": essentials,
        "whole_objects_baseline": baseline,
        "ratio_kb_per_merge": round(baseline["kb_per_merge"] / essentials["kb_per_merge"], 1),
        "target": "RSS < 150 MB per replica with 10,000 merges cached",
    }
    out = ROOT / "bench" / "results" / "api_memory.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"{'cache keeps':26}{'merges':>8}{'RSS before':>12}{'RSS after':>11}{'KB/merge':>10}{'sync s':>8}")
    for label, row in (("essentials (now)", essentials), ("whole objects (before)", baseline)):
        print(
            f"{label:26}{row['merges']:>8}{row['rss_before_mb']:>10.1f}MB{row['rss_after_mb']:>9.1f}MB"
            f"{row['kb_per_merge']:>10.2f}{row['sync_s']:>8.2f}"
        )
    print(f"per merge: {results['ratio_kb_per_merge']}x less; results in {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
