"""Running the operator as a real process against the local cluster, and playing the worker's status writes."""

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client
from support.kube import ROOT, wait_until
from support.processes import ComponentProcess, free_port

from videomerge_contract.resource import GROUP, PLURAL, VERSION
from videomerge_operator.settings import OperatorSettings

OPERATOR = ROOT / ".venv" / "bin" / "videomerge-operator"
TEST_IMAGE = "debian:bookworm-slim"  # loaded into the node by the cluster scripts; no registry needed
# Short lease timings so that take-overs fit in a test; the same ordering rules as production.
FAST = {
    "LEASE_DURATION_SECONDS": "6",
    "RENEW_DEADLINE_SECONDS": "4",
    "RETRY_PERIOD_SECONDS": "1",
    "RESYNC_SECONDS": "5",
}


def bare_job_settings(identity: str, namespace: str, sleep_seconds: int) -> OperatorSettings:
    """Operator settings whose Job manifest is a bare sleeping Job: what the benchmarks create directly,
    beside the operator, as their baseline."""
    return OperatorSettings(
        identity=identity,
        lease_namespace=namespace,
        worker_image=TEST_IMAGE,
        worker_image_pull_policy="Never",
        worker_service_account="default",
        worker_command=["sh", "-c", f"sleep {sleep_seconds}"],
        worker_args=[],
        worker_cpu_request="10m",
        worker_memory_request="16Mi",
        s3_secret_name=None,
        backoff_limit=0,
    )


def sleeper(seconds: float) -> str:
    """A worker command that just runs for a while and exits 0 (the test writes the status)."""
    return json.dumps(["sh", "-c", f"sleep {seconds}"])


class OperatorProcess(ComponentProcess):
    component = "operator"

    def __init__(
        self, kubeconfig: str, namespace: str, log_dir: Path, name: str = "op", **settings: Any
    ) -> None:
        port = free_port()
        self.identity = f"{name}-{namespace}"
        values = {
            "NAMESPACES": namespace,
            "LEASE_NAMESPACE": namespace,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            "IDENTITY": self.identity,
            "WORKER_IMAGE": TEST_IMAGE,
            "WORKER_IMAGE_PULL_POLICY": "Never",
            "WORKER_SERVICE_ACCOUNT": "default",
            "WORKER_ARGS": "[]",
            "WORKER_CPU_REQUEST": "10m",
            "WORKER_MEMORY_REQUEST": "16Mi",
            "S3_SECRET_NAME": "",
            "BACKOFF_LIMIT": "0",
            "TTL_SECONDS_AFTER_FINISHED": "3600",
            "LOG_FORMAT": "json",
            **FAST,
        }
        super().__init__(OPERATOR, kubeconfig, name, log_dir / f"{name}.log", port, values, settings)

    def start(self) -> "OperatorProcess":
        self.launch()
        wait_until(self.answering, timeout=30, what=f"operator {self.name} answering on /healthz")
        return self

    def answering(self) -> bool:
        return self.get("/healthz")[0] == 200

    def readiness(self) -> dict[str, Any]:
        status, body = self.get("/readyz")
        return {"http": status, **(json.loads(body) if body else {})}

    def leading(self) -> bool:
        return self.metric("videomerge_operator_leader") == 1

    def metric(self, name: str) -> float | None:
        status, body = self.get("/metrics")
        if status != 200:
            return None
        for line in body.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None


# VideoMerges
def create_merge(
    custom: client.CustomObjectsApi, namespace: str, name: str, clips: int = 2
) -> dict[str, Any]:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "VideoMerge",
        "metadata": {"name": name},
        "spec": {"videoUrls": [f"https://example.com/{name}/{i}.mp4" for i in range(clips)]},
    }
    return custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def get_merge(custom: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        return custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise


def list_merges(custom: client.CustomObjectsApi, namespace: str) -> list[dict[str, Any]]:
    return custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]


def phase_of(custom: client.CustomObjectsApi, namespace: str, name: str) -> str | None:
    merge = get_merge(custom, namespace, name)
    return ((merge or {}).get("status") or {}).get("phase")


def wait_phase(
    custom: client.CustomObjectsApi,
    kube: client.ApiClient,
    namespace: str,
    name: str,
    phase: str,
    timeout: float,
) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        merge = get_merge(custom, namespace, name)
        return merge if ((merge or {}).get("status") or {}).get("phase") == phase else None

    return wait_until(
        reached, timeout=timeout, what=f"{namespace}/{name} {phase}", api=kube, namespace=namespace
    )


def write_status(custom: client.CustomObjectsApi, namespace: str, name: str, status: dict[str, Any]) -> None:
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name, {"status": status})


def worker_completes(
    custom: client.CustomObjectsApi, namespace: str, name: str, processing_time: float
) -> None:
    """What a worker writes for a merge it ran: Processing, then Completed with its result."""
    write_status(
        custom,
        namespace,
        name,
        {"phase": "Processing", "stage": "merging", "progress": 50, "startTime": stamp()},
    )
    result = {
        "mergedUrl": f"s3://test/{name}.mp4",
        "durationSeconds": 2.0,
        "processingTime": processing_time,
        "clipsMerged": 2,
    }
    completed = {"phase": "Completed", "stage": "done", "progress": 100, "result": result}
    write_status(custom, namespace, name, completed | {"completionTime": stamp()})


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def events_of(kube: client.ApiClient, namespace: str, name: str) -> list[str]:
    events = client.CoreV1Api(kube).list_namespaced_event(
        namespace, field_selector=f"involvedObject.kind=VideoMerge,involvedObject.name={name}"
    )
    # eventTime has microseconds; firstTimestamp whole seconds, in which two events may land
    return [
        e.reason
        for e in sorted(events.items, key=lambda e: (str(e.event_time or e.first_timestamp), e.metadata.name))
    ]


def jobs_of(kube: client.ApiClient, namespace: str) -> list[client.V1Job]:
    return client.BatchV1Api(kube).list_namespaced_job(namespace).items


class FakeWorker:
    """Plays the worker's part of the contract for pods running a stand-in image: when a merge's pod has run
    for ``hold`` seconds, it writes Processing, then Completed with a result, as the real worker would."""

    def __init__(
        self, kube: client.ApiClient, custom: client.CustomObjectsApi, namespace: str, hold: float = 0.5
    ):
        self.core = client.CoreV1Api(kube)
        self.custom = custom
        self.namespace = namespace
        self.hold = hold
        self.completed_at: dict[str, float] = {}
        self.errors: list[str] = []
        self._running_since: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-worker", daemon=True)

    def __enter__(self) -> "FakeWorker":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                self._step()
            except Exception as error:  # keep playing; the test reports what went wrong
                self.errors.append(repr(error))

    def _step(self) -> None:
        pods = self.core.list_namespaced_pod(self.namespace, label_selector="videomerge.io/merge").items
        for pod in pods:
            name = pod.metadata.labels["videomerge.io/merge"]
            if name in self.completed_at or pod.status.phase != "Running":
                continue
            since = self._running_since.setdefault(name, time.monotonic())
            if time.monotonic() - since < self.hold:
                continue
            worker_completes(self.custom, self.namespace, name, processing_time=self.hold)
            self.completed_at[name] = time.monotonic()


class JobRecorder:
    """Every Job that ever appears in the namespace, in order, with when this process saw it (a watch)."""

    def __init__(self, kube: client.ApiClient, namespace: str) -> None:
        self.batch = client.BatchV1Api(kube)
        self.namespace = namespace
        self.seen: list[tuple[float, str, str]] = []  # (monotonic time, job name, uid)
        self._uids: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-recorder", daemon=True)

    def __enter__(self) -> "JobRecorder":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        from kubernetes import watch

        while not self._stop.is_set():
            stream = watch.Watch()
            try:
                for event in stream.stream(self.batch.list_namespaced_job, self.namespace, timeout_seconds=2):
                    job = event["object"]
                    if job.metadata.uid not in self._uids:
                        self._uids.add(job.metadata.uid)
                        self.seen.append((time.monotonic(), job.metadata.name, job.metadata.uid))
                    if self._stop.is_set():
                        break
            except Exception:  # the watch is re-established; a relist re-reports nothing already seen
                time.sleep(0.2)
            finally:
                stream.stop()

    def names(self) -> list[str]:
        return [name for _, name, _ in self.seen]
