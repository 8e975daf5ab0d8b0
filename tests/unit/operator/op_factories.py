"""Raw Kubernetes objects as the API server returns them, for the operator's unit tests."""

from datetime import UTC, datetime, timedelta
from typing import Any

from videomerge_operator.job_manifest import build_job
from videomerge_operator.settings import OperatorSettings

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def settings(**overrides: Any) -> OperatorSettings:
    return OperatorSettings(identity="test-operator", lease_namespace="default", **overrides)


def merge_body(
    name: str = "m1",
    namespace: str = "ns",
    created: datetime = T0,
    status: dict[str, Any] | None = None,
    clips: int = 2,
    uid: str | None = None,
    resource_version: str = "1",
    deleting: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": uid or f"uid-{namespace}-{name}",
        "resourceVersion": resource_version,
        "generation": 1,
        "creationTimestamp": stamp(created),
    }
    if deleting:
        meta["deletionTimestamp"] = stamp(created + timedelta(seconds=1))
    return {
        "apiVersion": "videomerge.io/v1alpha1",
        "kind": "VideoMerge",
        "metadata": meta,
        "spec": {"videoUrls": [f"https://example.com/{i}.mp4" for i in range(clips)]},
        "status": status or {},
    }


def job_body(
    merge: dict[str, Any],
    conditions: list[tuple[str, str, str]] = (),  # type, reason, message
    active: int = 0,
    failed: int = 0,
    succeeded: int = 0,
    uid: str = "job-uid",
) -> dict[str, Any]:
    meta = merge["metadata"]
    job = build_job(meta["name"], meta["namespace"], meta["uid"], settings())
    job["metadata"].update(uid=uid, creationTimestamp=meta["creationTimestamp"], resourceVersion="5")
    job["status"] = {
        "active": active,
        "failed": failed,
        "succeeded": succeeded,
        "conditions": [{"type": t, "status": "True", "reason": r, "message": m} for t, r, m in conditions],
    }
    return job


def pod_body(
    job: dict[str, Any],
    name: str = "pod-a",
    created: datetime = T0,
    phase: str = "Running",
    waiting: tuple[str, str] | None = None,
    terminated: dict[str, Any] | None = None,
    disrupted: bool = False,
) -> dict[str, Any]:
    state: dict[str, Any] = {"running": {"startedAt": stamp(created)}}
    if waiting:
        state = {"waiting": {"reason": waiting[0], "message": waiting[1]}}
    if terminated is not None:
        state = {"terminated": terminated}
    return {
        "metadata": {
            "name": name,
            "namespace": job["metadata"]["namespace"],
            "creationTimestamp": stamp(created),
            "labels": {"batch.kubernetes.io/job-name": job["metadata"]["name"]},
            "ownerReferences": [
                {
                    "kind": "Job",
                    "name": job["metadata"]["name"],
                    "uid": job["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "status": {
            "phase": phase,
            "conditions": [{"type": "DisruptionTarget", "status": "True"}] if disrupted else [],
            "containerStatuses": [{"name": "worker", "state": state}],
        },
    }
