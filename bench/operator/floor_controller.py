"""The floor of the burst: the least a controller can do, a watch on VideoMerges and a POST of each Job.

No cache, no status, no Events, no leader election: it creates the operator's own Job manifest for every
VideoMerge it sees, from ``--threads`` threads over one connection pool. Whatever latency this leaves is
the API server's and the machine's, not the operator's.

Run by bench_operator.py:  floor_controller.py KUBECONFIG NAMESPACE [--threads 16]
"""

import argparse
import json
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration" / "operator"))
sys.path.insert(0, str(ROOT / "tests"))

from op_support import bare_job_settings  # noqa: E402

from videomerge_contract.resource import GROUP, PLURAL, VERSION  # noqa: E402
from videomerge_operator.job_manifest import build_job  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kubeconfig")
    parser.add_argument("namespace")
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    configuration = client.Configuration()
    config.load_kube_config(config_file=args.kubeconfig, client_configuration=configuration)
    configuration.connection_pool_maxsize = args.threads + 1
    api = client.ApiClient(configuration)
    settings = bare_job_settings("floor", args.namespace, 1)
    pool = ThreadPoolExecutor(args.threads)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    jobs_path = f"/apis/batch/v1/namespaces/{args.namespace}/jobs"
    merges_path = f"/apis/{GROUP}/{VERSION}/namespaces/{args.namespace}/{PLURAL}"

    def create(meta: dict) -> None:
        manifest = build_job(meta["name"], args.namespace, meta["uid"], settings)
        _, url, headers, body, _ = api.param_serialize(
            "POST", jobs_path, header_params={"Content-Type": "application/json"}, body=manifest,
            auth_settings=["BearerToken"],
        )  # fmt: skip
        api.call_api("POST", url, header_params=headers, body=body).read()

    seen: set[str] = set()
    resource_version = ""
    while True:
        query = [("watch", "true"), ("timeoutSeconds", "60")]
        if resource_version:
            query.append(("resourceVersion", resource_version))
        _, url, headers, _, _ = api.param_serialize(
            "GET", merges_path, query_params=query, auth_settings=["BearerToken"]
        )
        response = api.call_api("GET", url, header_params=headers)
        buffer = b""
        while chunk := response.response.read1(65536):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                event = json.loads(line)
                meta = event["object"]["metadata"]
                resource_version = meta.get("resourceVersion", resource_version)
                if event["type"] == "ADDED" and meta["uid"] not in seen:
                    seen.add(meta["uid"])
                    pool.submit(create, meta)
        response.response.release_conn()


if __name__ == "__main__":
    main()
