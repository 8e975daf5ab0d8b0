"""REST API benchmark on the local cluster (issue 6).

1. Status reads: CLIENTS concurrent clients for DURATION seconds of GET /api/v1/merge/{id}/status over
   MERGES existing merges, served from the watch cache, then the same with the cache off (every read a
   direct GET to the API server); ROUNDS rounds in turn, medians; requests/s, p50/p99, and the ratio.
2. POST /api/v1/merge latency: POSTS creations by 8 concurrent clients; p50/p99.

Each API runs alone as `videomerge-api` (uvicorn, one process) on 127.0.0.1 and a free port; the load
comes from one asyncio process on the same machine, so both share its cores. All traffic is loopback.
Run:  .venv/bin/python bench/api/bench_api.py [--clients 32] [--duration 10] [--merges 200] [--posts 400]
Prints a table and writes bench/results/api.json. Needs the local cluster (make cluster-up).
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration" / "api"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from api_server_process import ApiServer  # noqa: E402
from bench_common import kubeconfig_path, percentile  # noqa: E402
from loopback_http import Connection  # noqa: E402
from support.api_clients import bearer, write_clients  # noqa: E402

from videomerge_api.resources import new_video_merge, random_name  # noqa: E402
from videomerge_contract.resource import GROUP, PLURAL, VERSION  # noqa: E402

SPEC = {"videoUrls": ["http://127.0.0.1:9/a.mp4", "http://127.0.0.1:9/b.mp4"]}
BODY = {"video_urls": SPEC["videoUrls"], "quality": "low"}
# Auth on as deployed (its cost is part of every request); limits off: the load is one client on purpose.
CLIENT = "alice"
AUTH = bearer(CLIENT)["authorization"]


def summary(latencies: list[float], errors: int, seconds: float) -> dict[str, float]:
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
    }


async def read_load(port: int, ids: list[str], clients: int, duration: float) -> dict[str, float]:
    """``clients`` connections, each one request at a time, until ``duration`` is over."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    async def one_client(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        async with Connection("127.0.0.1", port, AUTH) as http:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status, _ = await http.request("GET", f"/api/v1/merge/{rng.choice(ids)}/status")
                if status == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(clients)))
    return summary(latencies, errors, time.perf_counter() - started)


async def post_load(port: int, posts: int, clients: int = 8) -> dict[str, float]:
    """``posts`` creations in all, by ``clients`` connections."""
    latencies: list[float] = []
    errors = 0
    remaining = iter(range(posts))

    async def one_client() -> None:
        nonlocal errors
        async with Connection("127.0.0.1", port, AUTH) as http:
            for _ in remaining:
                started = time.perf_counter()
                status, _ = await http.request("POST", "/api/v1/merge", BODY)
                if status == 202:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return summary(latencies, errors, time.perf_counter() - started)


def direct_reads(url: str) -> float:
    for line in httpx.get(f"{url}/metrics", headers={"authorization": AUTH}).text.splitlines():
        if line.startswith('videomerge_api_reads_total{source="direct"}'):
            return float(line.split()[-1])
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32, choices=range(1, 65), metavar="1..64")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--merges", type=int, default=200)
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 6), metavar="1..5")
    args = parser.parse_args()
    duration = min(args.duration, 30.0)  # bounded, whatever is asked
    kubeconfig = kubeconfig_path()
    api = config.new_client_from_config(config_file=kubeconfig)
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    namespace = f"bench-api-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    results: dict[str, object] = {"clients": args.clients, "duration_s": duration, "merges": args.merges}
    try:
        ids = []
        for i in range(args.merges):
            created = custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, new_video_merge(random_name(), SPEC, None, CLIENT)
            )
            name = created["metadata"]["name"]
            status = {"phase": "Processing", "stage": "merging", "progress": i % 100}
            custom.patch_namespaced_custom_object_status(
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                name,
                {"status": status},
                _content_type="application/merge-patch+json",
            )
            ids.append(name)
        with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as servers:
            # Both APIs up at once, loaded in turn: cache, direct, cache, direct... so drifting load from
            # other work on the machine hits both alike; each figure is the median of its rounds.
            urls = {
                mode: servers.enter_context(
                    ApiServer(
                        kubeconfig,
                        namespace,
                        Path(tmp) / f"{mode}.log",
                        cache_enabled=flag,
                        auth_clients_dir=str(write_clients(Path(tmp) / "clients")),
                        rate_limit_per_second="0",
                        quota_max_active_merges="0",
                    )
                )
                for mode, flag in (("cache", "true"), ("direct", "false"))
            }
            rounds: dict[str, list[dict[str, float]]] = {"cache": [], "direct": []}
            for server in urls.values():
                asyncio.run(read_load(server.port, ids, 4, 1.0))  # warm-up: connections, code paths
            for _ in range(args.rounds):
                for mode, server in urls.items():
                    before = direct_reads(server.url)
                    row = asyncio.run(read_load(server.port, ids, args.clients, duration))
                    row["api_server_gets"] = direct_reads(server.url) - before
                    row["load_avg_1m"] = round(os.getloadavg()[0], 2)
                    rounds[mode].append(row)
            for mode, rows in rounds.items():
                results[f"status_{mode}_rounds"] = rows
                results[f"status_{mode}"] = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            results["post"] = asyncio.run(post_load(urls["cache"].port, args.posts))
    finally:
        core.delete_namespace(namespace, propagation_policy="Background")
    cached, direct = results["status_cache"], results["status_direct"]
    results["ratio_rps"] = round(cached["rps"] / direct["rps"], 2)
    results["ratio_p99"] = round(direct["p99_ms"] / cached["p99_ms"], 2)
    out = ROOT / "bench" / "results" / "api.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"{'':28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'API GETs':>10}")
    for label, key in (("status, watch cache", "status_cache"), ("status, direct GET", "status_direct")):
        row = results[key]
        print(
            f"{label:28}{row['rps']:>10}{row['p50_ms']:>10}{row['p99_ms']:>10}{row['errors']:>8}{row['api_server_gets']:>10.0f}"
        )
    post = results["post"]
    print(
        f"{'POST /api/v1/merge (8 cl.)':28}{post['rps']:>10}{post['p50_ms']:>10}{post['p99_ms']:>10}{post['errors']:>8}"
    )
    for mode in ("cache", "direct"):
        rows = results[f"status_{mode}_rounds"]
        print(
            f"  {mode} rounds: req/s {[r['rps'] for r in rows]}, load avg {[r['load_avg_1m'] for r in rows]}"
        )
    print(f"cache vs direct: {results['ratio_rps']}x requests/s, {results['ratio_p99']}x lower p99  → {out}")


if __name__ == "__main__":
    main()
