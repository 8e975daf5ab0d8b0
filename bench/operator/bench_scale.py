"""Scale benchmark on the local cluster (issue 12): many merges through real Jobs, many finished ones held.

1. Held: 10,000 finished VideoMerges in one namespace, as a worker and the operator leave them (Completed,
   acknowledged, labelled settled). The operator and the API run as real processes against them; their
   RSS, and the API's list-page (GET /api/v1/merge?limit=100) and status-read
   (GET /api/v1/merge/<id>/status) latency, are measured with 100 held and again with 10,000 held, side by
   side; then the operator is restarted on the 10,000 (an upgrade, a moved leader): how soon it answers,
   its peak RSS.
2. Burst: 1,000 new VideoMerges created at once (16 client threads) with the 10,000 still held; the operator
   (concurrency limit --limit) gives each a real Job whose pod runs a stand-in worker (`sleep`), and a
   watcher plays the worker's status writes when a pod runs (as the integration tests' FakeWorker does).
   Every merge must end, with exactly one Job each: every Job created in the namespace is counted from a
   watch, so a duplicate counts even if it was deleted again. The bench itself only watches (pods, Jobs)
   and lists the burst's merges by label every 10 s, so that it does not compete with what it measures.

Run:  .venv/bin/python bench/operator/bench_scale.py [--held 10000] [--burst 1000] [--limit 50]
Prints a table and writes bench/results/scale.json. Needs the local cluster (make cluster-up) and the
`debian:bookworm-slim` image in its containerd (the operator integration tests use it too).
"""

import argparse
import json
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client, config, watch

ROOT = Path(__file__).resolve().parents[2]
for extra in ("tests/integration/operator", "tests/integration/api", "tests", "bench"):
    sys.path.insert(0, str(ROOT / extra))

from api_server_process import ApiServer  # noqa: E402
from bench_common import kubeconfig_path, percentile  # noqa: E402
from op_support import OperatorProcess, sleeper, stamp, worker_completes, write_status  # noqa: E402

from videomerge_contract.resource import GROUP, LABEL_SETTLED, PLURAL, VERSION  # noqa: E402

RESYNC_SECONDS = 30
SWEEP_SECONDS = 20  # retention sweeps: each lists every settled merge
MERGE_LABEL = "videomerge.io/merge"  # on the operator's Jobs and their pods
BURST_LABEL = "bench.videomerge.io/burst"
RESULT = {
    "mergedUrl": "https://example.com/m.mp4",
    "durationSeconds": 2.0,
    "processingTime": 1.0,
    "clipsMerged": 2,
}


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set of a process, MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def hold(custom: client.CustomObjectsApi, namespace: str, names: list[str]) -> None:
    """Finished merges, as a worker and the operator leave them: Completed, acknowledged and labelled
    settled (created with the label, so the operator never sees them unfinished and starts no Job)."""

    def one(name: str) -> None:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "VideoMerge",
            "metadata": {"name": name, "labels": {LABEL_SETTLED: "true"}},
            "spec": {"videoUrls": [f"https://example.com/{name}/{i}.mp4" for i in range(2)]},
        }
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
        now = stamp()
        conditions = [
            {
                "type": t,
                "status": "True",
                "reason": r,
                "message": m,
                "lastTransitionTime": now,
                "observedGeneration": 1,
            }
            for t, r, m in (
                ("JobCreated", "JobCreated", f"Created Job {name}"),
                ("WorkerStarted", "WorkerStarted", "The worker started (2 clips)"),
                ("Complete", "MergeCompleted", "Merged 2 clips into 2.0s of video in 1.0s"),
            )
        ]
        status = {"phase": "Completed", "stage": "done", "progress": 100, "clips": 2, "result": RESULT}
        status |= {
            "startTime": now,
            "completionTime": now,
            "jobName": name,
            "attempts": 1,
            "duration": "2.0s",
        }
        # As a worker and the operator leave a finished merge (so holding them costs no writes).
        write_status(custom, namespace, name, {**status, "conditions": conditions, "observedGeneration": 1})

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, names))


def latencies(api: httpx.Client, names: list[str], rounds: int) -> dict[str, float]:
    page, read = [], []
    for i in range(rounds):
        t0 = time.perf_counter()
        listed = api.get("/api/v1/merge", params={"limit": 100})
        page.append(time.perf_counter() - t0)
        assert listed.status_code == 200, listed.text
        t0 = time.perf_counter()
        status = api.get(f"/api/v1/merge/{names[(i * 7919) % len(names)]}/status")
        read.append(time.perf_counter() - t0)
        assert status.status_code == 200, status.text
    ms = 1000
    return {
        "list_page_p50_ms": statistics.median(page) * ms,
        "list_page_p99_ms": percentile(page, 0.99) * ms,
        "status_read_p50_ms": statistics.median(read) * ms,
        "status_read_p99_ms": percentile(read, 0.99) * ms,
    }


def max_rss_over(pid: int, seconds: float) -> float:
    """The highest RSS (MB) sampled every second for ``seconds``: what the process needs, sweeps included."""
    highest, until = 0.0, time.monotonic() + seconds
    while time.monotonic() < until:
        highest = max(highest, rss_mb(pid)[0])
        time.sleep(1)
    return highest


def settle(operator: OperatorProcess, finished: int, timeout: float = 900) -> float:
    """Waits until the operator has acknowledged ``finished`` completions (conditions and Events written,
    as for any merge a worker completed), then lets the watch caches take that in. Returns the wait."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if (operator.metric("videomerge_operator_merges_finished_total") or 0) >= finished:
            break
        time.sleep(2)
    time.sleep(5)
    return time.monotonic() - started


class StandInWorker:
    """Writes Processing then Completed for each merge whose pod runs (what the real worker reports)."""

    def __init__(self, kube: client.ApiClient, custom: client.CustomObjectsApi, namespace: str) -> None:
        self.core, self.custom, self.namespace = client.CoreV1Api(kube), custom, namespace
        self.done: set[str] = set()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(8)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "StandInWorker":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self._pool.shutdown(wait=True)

    def _run(self) -> None:
        for pod in watched(
            self.core.list_namespaced_pod, self.namespace, MERGE_LABEL, self._stop, self.errors
        ):
            name = pod["metadata"]["labels"][MERGE_LABEL]
            if (pod.get("status") or {}).get("phase") in ("Running", "Succeeded") and name not in self.done:
                self.done.add(name)
                self._pool.submit(self._complete, name)

    def _complete(self, name: str) -> None:
        try:
            worker_completes(self.custom, self.namespace, name, processing_time=1.0)
        except Exception as error:
            self.errors.append(repr(error))


class JobCounter:
    """Every Job created in the namespace, by merge, from a watch (a Job deleted again still counts)."""

    def __init__(self, kube: client.ApiClient, namespace: str) -> None:
        self.batch, self.namespace = client.BatchV1Api(kube), namespace
        self.jobs: dict[str, str] = {}  # uid -> merge
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "JobCounter":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        for job in watched(
            self.batch.list_namespaced_job, self.namespace, MERGE_LABEL, self._stop, self.errors
        ):
            self.jobs.setdefault(job["metadata"]["uid"], job["metadata"]["labels"][MERGE_LABEL])


def watched(
    lister: Any, namespace: str, label: str, stop: threading.Event, errors: list[str]
) -> Iterator[dict[str, Any]]:
    """Objects as a watch sees them (raw dicts), resumed after a dropped connection, until ``stop``."""
    resource_version = ""
    while not stop.is_set():
        try:
            stream = watch.Watch().stream(
                lister,
                namespace,
                label_selector=label,
                resource_version=resource_version,
                timeout_seconds=5,
                deserialize=False,  # plain dicts: the client's models would cost more CPU than the operator
            )
            for event in stream:
                item = event["object"]
                resource_version = item["metadata"].get("resourceVersion", resource_version)
                if event["type"] == "ERROR":
                    resource_version = ""  # expired: start again from a fresh list
                    break
                yield item
                if stop.is_set():
                    return
        except Exception as error:
            errors.append(repr(error))
            resource_version = ""
            time.sleep(1)


def create_burst_merge(custom: client.CustomObjectsApi, namespace: str, name: str) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "VideoMerge",
        "metadata": {"name": name, "labels": {BURST_LABEL: "true"}},
        "spec": {"videoUrls": [f"https://example.com/{name}/{i}.mp4" for i in range(2)]},
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def ended_burst(custom: client.CustomObjectsApi, namespace: str) -> dict[str, str] | None:
    """Phase of every ended burst merge; None when the API server could not answer this time."""
    try:
        items = custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, label_selector=BURST_LABEL
        )["items"]
    except client.ApiException as error:
        print(f"  (list failed: {error.status} {error.reason}; next round)", flush=True)
        return None
    return {
        i["metadata"]["name"]: i["status"]["phase"]
        for i in items
        if (i.get("status") or {}).get("phase") in ("Completed", "Failed")
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--held", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--burst", type=int, default=1_000)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    signal.signal(
        signal.SIGTERM, lambda *_: sys.exit(1)
    )  # stopped by pid: still stop the processes, clean up
    kubeconfig = kubeconfig_path()
    kube = config.new_client_from_config(config_file=kubeconfig)
    kube.configuration.connection_pool_maxsize = 32
    custom, core = client.CustomObjectsApi(kube), client.CoreV1Api(kube)
    namespace = f"scale-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    logs = Path(tempfile.mkdtemp(prefix="vm-scale-"))
    results: dict[str, object] = {
        "namespace": namespace,
        "held": args.held,
        "burst": args.burst,
        "limit": args.limit,
    }
    operator = OperatorProcess(
        kubeconfig, namespace, logs, name="scale", max_concurrent=str(args.limit), worker_command=sleeper(1),
        resync_seconds=str(RESYNC_SECONDS), retention_interval_seconds=str(SWEEP_SECONDS), lease_duration_seconds="15", renew_deadline_seconds="10", retry_period_seconds="2",
    )  # fmt: skip
    api_server = ApiServer(
        kubeconfig, namespace, logs / "api.log", auth_enabled="false", rate_limit_per_second="0"
    )
    try:
        t0 = time.monotonic()
        held = [f"held-{i:05d}" for i in range(args.held)]
        hold(custom, namespace, held[: args.small])
        operator.start()
        api_server.start()
        http = httpx.Client(base_url=api_server.url, timeout=30)
        settle(operator, 0, timeout=0)
        small = {
            "rss_operator_mb": max_rss_over(operator.pid, SWEEP_SECONDS + 5),
            "rss_api_mb": rss_mb(api_server.process.pid)[0],
        }
        small |= latencies(http, held[: args.small], args.rounds)
        print(f"{args.small} held: {small}", flush=True)
        hold(custom, namespace, held[args.small :])
        print(f"{args.held} held after {time.monotonic() - t0:.0f}s", flush=True)
        running = max_rss_over(operator.pid, SWEEP_SECONDS * 3 + 5)  # resyncs, and sweeps listing them all
        operator.stop()  # and a start on all of them, as after an upgrade or a moved leader
        restarted = time.monotonic()
        operator.start()
        ready = time.monotonic() - restarted
        time.sleep(SWEEP_SECONDS + 5)
        results["operator_start"] = {
            "rss_mb_before_restart": round(running, 1),
            "answering_after_s": round(ready, 1),
            "peak_rss_mb": round(rss_mb(operator.pid)[1], 1),
        }
        print(f"operator restarted on {args.held} held: {results['operator_start']}", flush=True)
        large = {"rss_operator_mb": running, "rss_api_mb": rss_mb(api_server.process.pid)[0]}
        large |= latencies(http, held, args.rounds)
        print(f"{args.held} held: {large}", flush=True)
        results |= {"small": small, "large": large}

        burst = [f"burst-{i:04d}" for i in range(args.burst)]
        started = time.monotonic()
        with JobCounter(kube, namespace) as counter, StandInWorker(kube, custom, namespace) as worker:
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda n: create_burst_merge(custom, namespace, n), burst))
            created = time.monotonic() - started
            deadline = started + args.timeout
            ended: dict[str, str] = {}
            while time.monotonic() < deadline:
                ended = ended_burst(custom, namespace) or ended
                print(
                    f"  {len(ended)}/{args.burst} ended after {time.monotonic() - started:.0f}s, "
                    f"{len(counter.jobs)} Jobs, operator {rss_mb(operator.pid)[0]:.0f} MB",
                    flush=True,
                )
                if len(ended) == args.burst:
                    break
                time.sleep(10)
            took = time.monotonic() - started
            time.sleep(3)  # a duplicate Job created at the very end still reaches the count
            errors = worker.errors + counter.errors
            job_merges = list(counter.jobs.values())
        per_merge = Counter(m for m in job_merges if m.startswith("burst-"))
        peak_op = rss_mb(operator.pid)
        peak_api = rss_mb(api_server.process.pid)
        results["burst_result"] = {
            "created_in_s": round(created, 1),
            "all_ended_in_s": round(took, 1),
            "ended": len(ended),
            "completed": sum(1 for p in ended.values() if p == "Completed"),
            "jobs": sum(per_merge.values()),
            "held_merges_given_a_job": sum(1 for m in job_merges if not m.startswith("burst-")),
            "duplicate_jobs": sum(c - 1 for c in per_merge.values() if c > 1),
            "merges_without_job": sum(1 for n in burst if per_merge.get(n, 0) == 0),
            "operator_rss_mb_now_peak": [round(x, 1) for x in peak_op],
            "api_rss_mb_now_peak": [round(x, 1) for x in peak_api],
            "stand_in_worker_errors": errors[:5],
        }
        print(json.dumps(results, indent=2), flush=True)
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        (out / "scale.json").write_text(json.dumps(results, indent=2))
        print("\n| held | operator RSS | API RSS | list page p50 / p99 | status read p50 / p99 |")
        print("| --- | --- | --- | --- | --- |")
        for label, row in ((args.small, small), (args.held, large)):
            print(
                f"| {label} | {row['rss_operator_mb']:.0f} MB | {row['rss_api_mb']:.0f} MB | "
                f"{row['list_page_p50_ms']:.1f} / {row['list_page_p99_ms']:.1f} ms | "
                f"{row['status_read_p50_ms']:.1f} / {row['status_read_p99_ms']:.1f} ms |"
            )
        start = results["operator_start"]
        print(
            f"\noperator on {args.held} held: {start['rss_mb_before_restart']} MB before a restart; started "
            f"again, answering after {start['answering_after_s']} s, peak RSS {start['peak_rss_mb']} MB"
        )
    finally:
        api_server.stop()
        if operator.process is not None and operator.process.poll() is None:
            operator.stop()
        core.delete_namespace(namespace, propagation_policy="Background")
        print(f"logs: {logs}")


if __name__ == "__main__":
    main()
