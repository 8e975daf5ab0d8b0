"""Scale benchmark on the local cluster (issue 12): many merges through real Jobs, many finished ones held.

1. Held: 10,000 finished VideoMerges in one namespace (created, then given a Completed status as a worker
   would). The operator and the API run as real processes against them; their RSS, and the API's list-page
   (GET /api/v1/merge?limit=100) and status-read (GET /api/v1/merge/<id>/status) latency, are measured with
   100 held and again with 10,000 held, side by side.
2. Burst: 1,000 new VideoMerges created at once (16 client threads) with the 10,000 still held; the operator
   (concurrency limit --limit) gives each a real Job whose pod runs a stand-in worker (`sleep`), and a
   watcher plays the worker's status writes when a pod runs (as the integration tests' FakeWorker does).
   Every merge must end, with exactly one Job each.

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[2]
for extra in ("tests/integration/operator", "tests/integration/api", "tests", "bench"):
    sys.path.insert(0, str(ROOT / extra))

from api_server_process import ApiServer  # noqa: E402
from bench_common import kubeconfig_path, percentile  # noqa: E402
from op_support import OperatorProcess, create_merge, sleeper, stamp, write_status  # noqa: E402

from videomerge_contract.resource import GROUP, PLURAL, VERSION  # noqa: E402

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
    """Finished merges, as they are after a worker completed them."""

    def one(name: str) -> None:
        create_merge(custom, namespace, name)
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
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "StandInWorker":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        with ThreadPoolExecutor(8) as pool:
            while not self._stop.wait(0.3):
                try:
                    pods = self.core.list_namespaced_pod(
                        self.namespace, label_selector="videomerge.io/merge"
                    ).items
                    todo = [
                        p.metadata.labels["videomerge.io/merge"]
                        for p in pods
                        if p.status.phase in ("Running", "Succeeded")
                        and p.metadata.labels["videomerge.io/merge"] not in self.done
                    ]
                    self.done.update(todo)
                    list(pool.map(self._complete, todo))
                except Exception as error:
                    self.errors.append(repr(error))

    def _complete(self, name: str) -> None:
        write_status(
            self.custom,
            self.namespace,
            name,
            {"phase": "Processing", "stage": "merging", "progress": 50, "startTime": stamp()},
        )
        write_status(
            self.custom,
            self.namespace,
            name,
            {
                "phase": "Completed",
                "stage": "done",
                "progress": 100,
                "result": RESULT,
                "completionTime": stamp(),
            },
        )


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
        resync_seconds="30", lease_duration_seconds="15", renew_deadline_seconds="10", retry_period_seconds="2",
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
        small = {"rss_operator_mb": rss_mb(operator.pid)[0], "rss_api_mb": rss_mb(api_server.process.pid)[0]}
        small |= latencies(http, held[: args.small], args.rounds)
        print(f"{args.small} held: {small}", flush=True)
        hold(custom, namespace, held[args.small :])
        print(f"{args.held} held after {time.monotonic() - t0:.0f}s", flush=True)
        waited = settle(operator, 0, timeout=0)
        print(f"operator acknowledged them {waited:.0f}s later", flush=True)
        results["acknowledge_s"] = round(waited, 1)
        large = {"rss_operator_mb": rss_mb(operator.pid)[0], "rss_api_mb": rss_mb(api_server.process.pid)[0]}
        large |= latencies(http, held, args.rounds)
        print(f"{args.held} held: {large}", flush=True)
        results |= {"small": small, "large": large}

        burst = [f"burst-{i:04d}" for i in range(args.burst)]
        started = time.monotonic()
        with StandInWorker(kube, custom, namespace) as worker:
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda n: create_merge(custom, namespace, n), burst))
            created = time.monotonic() - started
            deadline = started + args.timeout
            ended: dict[str, str] = {}
            while time.monotonic() < deadline:
                items = custom.list_namespaced_custom_object(
                    GROUP, VERSION, namespace, PLURAL, label_selector=""
                )["items"]
                ended = {
                    i["metadata"]["name"]: i["status"]["phase"]
                    for i in items
                    if i["metadata"]["name"].startswith("burst-")
                    and (i.get("status") or {}).get("phase") in ("Completed", "Failed")
                }
                print(
                    f"  {len(ended)}/{args.burst} ended after {time.monotonic() - started:.0f}s", flush=True
                )
                if len(ended) == args.burst:
                    break
                time.sleep(10)
            took = time.monotonic() - started
            errors = worker.errors
        # Only the burst's: a held merge may get a Job in the moment between its creation and its status.
        jobs = [
            j
            for j in client.BatchV1Api(kube).list_namespaced_job(namespace).items
            if j.metadata.labels.get("videomerge.io/merge", "").startswith("burst-")
        ]
        per_merge = Counter(j.metadata.labels.get("videomerge.io/merge") for j in jobs)
        peak_op = rss_mb(operator.pid)
        peak_api = rss_mb(api_server.process.pid)
        results["burst_result"] = {
            "created_in_s": round(created, 1),
            "all_ended_in_s": round(took, 1),
            "ended": len(ended),
            "completed": sum(1 for p in ended.values() if p == "Completed"),
            "jobs": len(jobs),
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
    finally:
        api_server.stop()
        if operator.process is not None and operator.process.poll() is None:
            operator.stop()
        core.delete_namespace(namespace, propagation_policy="Background")
        print(f"logs: {logs}")


if __name__ == "__main__":
    main()
