"""Operator benchmark on the local cluster (issue 5).

1. Burst: N VideoMerges created at once (16 client threads) with no concurrency limit; latency from each
   create request being sent to its Job appearing on a watch (p50/p95), and the operator's peak RSS and
   CPU. The namespace has a ResourceQuota of zero pods, so the burst measures the operator, not 200
   containers starting on a 2-core node. The same burst against floor_controller.py (a watch and a POST
   per Job, nothing else) is the floor: what the API server and this machine allow at all.
2. Start-up: creation → worker pod Running, through a VideoMerge vs the same Job created directly (the
   operator's own manifest without the owner), interleaved, K of each; the ratio of medians.

Run:  .venv/bin/python bench/operator/bench_operator.py [--burst 200] [--repeat 3] [--pairs 10]
Prints a table and writes bench/results/operator.json. Needs the local cluster (make cluster-up).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration" / "operator"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_common import kubeconfig_path, percentile  # noqa: E402
from op_support import OperatorProcess, bare_job_settings, create_merge, sleeper  # noqa: E402

from videomerge_contract.resource import GROUP, PLURAL, VERSION  # noqa: E402
from videomerge_operator.job_manifest import build_job  # noqa: E402


class Watcher:
    """Records when each object (by name) first appears on a raw watch, or first satisfies ``ready``.

    Raw JSON lines, no client models: the measuring side should cost the shared CPU as little as possible.
    """

    def __init__(self, api: client.ApiClient, path: str, key, ready=lambda obj: True) -> None:
        self.api, self.path, self.key, self.ready = api, path, key, ready
        self.first: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = threading.Event()

    def __enter__(self) -> "Watcher":
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            _, url, headers, _, _ = self.api.param_serialize(
                "GET",
                self.path,
                query_params=[("watch", "true"), ("timeoutSeconds", "3")],
                auth_settings=["BearerToken"],
            )
            response = self.api.call_api("GET", url, header_params=headers)
            self._started.set()
            buffer = b""
            while chunk := response.response.read1(65536):  # whatever has arrived, without waiting to fill
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                now = time.monotonic()
                for line in lines:
                    obj = json.loads(line)["object"]
                    name = self.key(obj)
                    if name and name not in self.first and self.ready(obj):
                        self.first[name] = now
                if self._stop.is_set():
                    break
            response.response.release_conn()


def new_namespace(core: client.CoreV1Api, prefix: str, zero_pods: bool) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"videomerge.io/test": "true"}))
    )
    if zero_pods:
        quota = client.V1ResourceQuota(
            metadata=client.V1ObjectMeta(name="no-pods"), spec=client.V1ResourceQuotaSpec(hard={"pods": "0"})
        )
        core.create_namespaced_resource_quota(name, quota)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            core.read_namespaced_service_account("default", name)
            return name
        except client.ApiException:
            time.sleep(0.2)
    raise RuntimeError(f"no default service account in {name}")


class FloorProcess:
    """floor_controller.py as a process, with the bits of OperatorProcess's interface the burst uses."""

    def __init__(self, kubeconfig: str, namespace: str, workdir: Path) -> None:
        self.args = [
            sys.executable,
            str(Path(__file__).with_name("floor_controller.py")),
            kubeconfig,
            namespace,
        ]
        self.log_path = workdir / "floor.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=30)


def pid_of(command: str) -> int | None:
    """The pid of a local cluster component, by its executable's name (to read its CPU time)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv0 = (entry / "cmdline").read_bytes().split(b"\0", 1)[0]
            except OSError:
                continue
            if argv0.endswith(command.encode()):
                return int(entry.name)
    return None


def delete_namespace(core: client.CoreV1Api, name: str, timeout: float = 120) -> None:
    """Deletes and waits until it is gone: cleaning up 400 objects must not load the next measurement."""
    core.delete_namespace(name, propagation_policy="Background")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            core.read_namespace(name)
        except client.ApiException as error:
            if error.status == 404:
                return
            raise
        time.sleep(0.5)
    print(f"warning: namespace {name} still there after {timeout}s", file=sys.stderr)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def burst(
    kubeconfig: str,
    api: client.ApiClient,
    count: int,
    workdir: Path,
    floor: bool = False,
    overrides: dict[str, str] | None = None,
) -> dict[str, object]:
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    namespace = new_namespace(core, "bench-burst", zero_pods=True)
    operator: OperatorProcess | FloorProcess
    if floor:
        operator = FloorProcess(kubeconfig, namespace, workdir)
    else:
        operator = OperatorProcess(
            kubeconfig,
            namespace,
            workdir,
            name="burst",
            **{"max_concurrent": 0, "worker_command": sleeper(1), **(overrides or {})},
        )
    log_start = operator.log_path.stat().st_size if operator.log_path.exists() else 0
    apiserver = pid_of("kube-apiserver")
    try:
        operator.start()
        create_merge(custom, namespace, "warm-up")  # the first event opens the cache gate; not measured
        jobs_path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
        merges_path = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"
        with (
            Watcher(api, jobs_path, lambda j: j["metadata"]["name"]) as jobs,
            Watcher(api, merges_path, lambda m: m["metadata"]["name"]) as merges,
        ):
            deadline = time.monotonic() + 60
            while "warm-up" not in jobs.first and time.monotonic() < deadline:
                time.sleep(0.05)
            sent: dict[str, float] = {}

            def create(i: int) -> None:
                name = f"b{i:04d}"
                sent[name] = time.monotonic()
                create_merge(custom, namespace, name)

            cpu_before = cpu_seconds(operator.pid)
            api_cpu_before = cpu_seconds(apiserver) if apiserver else 0.0
            started = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(create, range(count)))
            created_in = time.monotonic() - started
            deadline = time.monotonic() + 300
            while len([n for n in sent if n in jobs.first]) < count and time.monotonic() < deadline:
                time.sleep(0.1)
            latencies = [jobs.first[n] - sent[n] for n in sent if n in jobs.first]
            # The controller's share: from the merge showing up on a watch to its Job showing up.
            shares = [jobs.first[n] - merges.first[n] for n in sent if n in jobs.first and n in merges.first]
            busy = time.monotonic() - started
            cpu = cpu_seconds(operator.pid) - cpu_before
            api_cpu = cpu_seconds(apiserver) - api_cpu_before if apiserver else float("nan")
        rss = peak_rss_mb(operator.pid)
        alive = operator.process is not None and operator.process.poll() is None
        missing = count - len(latencies)
        with operator.log_path.open("rb") as log:
            log.seek(log_start)
            text = log.read().decode(errors="replace")
        return {
            "controller": "floor" if floor else "operator",
            "merges": count,
            "created_in_s": round(created_in, 2),
            "jobs_missing": missing,
            "p50_s": round(statistics.median(latencies), 3),
            "watch_to_job_p50_s": round(statistics.median(shares), 3),
            "p95_s": round(percentile(latencies, 0.95), 3),
            "max_s": round(max(latencies), 3),
            "operator_peak_rss_mb": round(rss, 1),
            "operator_cpu_s": round(cpu, 2),
            "apiserver_cpu_s": round(api_cpu, 2),
            "burst_wall_s": round(busy, 2),
            "still_running_after": alive,
            "lost_leadership": "lost leadership" in text,
            "pool_full_warnings": text.count("Connection pool is full"),
        }
    finally:
        operator.stop()
        delete_namespace(core, namespace)


def startup_ratio(kubeconfig: str, api: client.ApiClient, pairs: int, workdir: Path) -> dict[str, float]:
    core, batch, custom = client.CoreV1Api(api), client.BatchV1Api(api), client.CustomObjectsApi(api)
    namespace = new_namespace(core, "bench-start", zero_pods=False)
    operator = OperatorProcess(
        kubeconfig, namespace, workdir, name="start", max_concurrent=0, worker_command=sleeper(2)
    )
    # The very Job the operator would create (same image, command, requests), created directly instead.
    settings = bare_job_settings("bench", namespace, 2)

    def running(pod: dict) -> bool:
        return pod.get("status", {}).get("phase") == "Running"

    def job_name(pod: dict) -> str | None:
        return (pod["metadata"].get("labels") or {}).get("batch.kubernetes.io/job-name")

    try:
        operator.start()
        create_merge(custom, namespace, "warm-up")
        with Watcher(api, f"/api/v1/namespaces/{namespace}/pods", job_name, running) as pods:
            deadline = time.monotonic() + 90
            while "warm-up" not in pods.first and time.monotonic() < deadline:
                time.sleep(0.05)
            through_operator: list[float] = []
            direct: list[float] = []

            def via_merge(i: int) -> None:
                name = f"m{i:03d}"
                t0 = time.monotonic()
                create_merge(custom, namespace, name)
                through_operator.append(wait_for(pods.first, name) - t0)

            def via_job(i: int) -> None:
                manifest = build_job(f"j{i:03d}", namespace, "unused", settings)
                manifest["metadata"]["name"] = f"bare-{i:03d}"
                manifest["metadata"].pop("ownerReferences")
                t0 = time.monotonic()
                batch.create_namespaced_job(namespace, manifest)
                direct.append(wait_for(pods.first, f"bare-{i:03d}") - t0)

            for i in range(pairs):
                first, second = (via_merge, via_job) if i % 2 == 0 else (via_job, via_merge)
                first(i)
                second(i)
        p50_op, p50_direct = statistics.median(through_operator), statistics.median(direct)
        return {
            "pairs": pairs,
            "videomerge_to_running_p50_s": round(p50_op, 3),
            "bare_job_to_running_p50_s": round(p50_direct, 3),
            "videomerge_to_running_max_s": round(max(through_operator), 3),
            "bare_job_to_running_max_s": round(max(direct), 3),
            "ratio_p50": round(p50_op / p50_direct, 3),
        }
    finally:
        operator.stop()
        delete_namespace(core, namespace)


def wait_for(seen: dict[str, float], name: str, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while name not in seen:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} never reached Running")
        time.sleep(0.01)
    return seen[name]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument(
        "--repeat", type=int, default=3, help="bursts of each kind, floor and operator alternating"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the floor bursts")
    parser.add_argument("--pairs", type=int, default=10, help="start-up pairs (0: skip)")
    parser.add_argument(
        "--operator-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="operator setting for the bursts, e.g. api_concurrency=32 (repeatable)",
    )
    args = parser.parse_args()
    kubeconfig = kubeconfig_path()
    api = config.new_client_from_config(config_file=kubeconfig)
    workdir = ROOT / "bench" / "results"
    workdir.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict]] = {"operator": [], "floor": []}
    kinds = ["operator"] if args.no_floor else ["floor", "operator"]
    print(
        f"{'burst run':10} {'p50':>7} {'p95':>7} {'max':>7} {'RSS':>7} {'CPU':>6} {'apiserver CPU':>14} {'lease':>6}"
    )
    for i in range(args.repeat):
        for kind in kinds if i % 2 == 0 else kinds[::-1]:
            overrides = dict(item.split("=", 1) for item in args.operator_setting)
            r = burst(kubeconfig, api, args.burst, workdir, floor=kind == "floor", overrides=overrides)
            runs[kind].append(r)
            lease = "lost" if r["lost_leadership"] or not r["still_running_after"] else "kept"
            print(
                f"{kind:10} {r['p50_s']:>6.3f}s {r['p95_s']:>6.3f}s {r['max_s']:>6.3f}s"
                f" {r['operator_peak_rss_mb']:>5.1f}MB {r['operator_cpu_s']:>5.2f}s {r['apiserver_cpu_s']:>13.2f}s"
                f" {lease if kind == 'operator' else '-':>6}  missing {r['jobs_missing']},"
                f" pool warnings {r['pool_full_warnings']}, watch→Job p50 {r['watch_to_job_p50_s']:.3f}s",
                flush=True,
            )
    results: dict[str, object] = {"burst_runs": runs}
    for kind, done in runs.items():
        if done:
            results[f"{kind}_p50_median_s"] = statistics.median(r["p50_s"] for r in done)
            results[f"{kind}_p95_median_s"] = statistics.median(r["p95_s"] for r in done)
    if args.pairs:
        results["startup"] = s = startup_ratio(kubeconfig, api, args.pairs, workdir)
    print()
    print(f"{'measure':45} {'value':>10}  target")
    if runs["operator"]:
        p50, p95 = results["operator_p50_median_s"], results["operator_p95_median_s"]
        rss = max(r["operator_peak_rss_mb"] for r in runs["operator"])
        print(f"{f'creation → Job p50 ({args.burst} at once), median':45} {p50:>9.3f}s  < 0.5 s")
        print(f"{'creation → Job p95, median':45} {p95:>9.3f}s")
        print(f"{'operator peak RSS (max over runs)':45} {rss:>8.1f}MB  < 150 MB")
    if runs["floor"]:
        p50, p95 = results["floor_p50_median_s"], results["floor_p95_median_s"]
        print(f"{'floor: p50 / p95, median':45} {p50:>9.3f}s / {p95:.3f}s")
    if args.pairs:
        print(f"{'VideoMerge → pod Running p50':45} {s['videomerge_to_running_p50_s']:>9.3f}s")
        print(f"{'bare Job → pod Running p50':45} {s['bare_job_to_running_p50_s']:>9.3f}s")
        print(f"{f'ratio ({args.pairs} pairs)':45} {s['ratio_p50']:>9.2f}x  ≤ 1.2x")
    (workdir / "operator.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
