"""Talking to the local cluster from tests: clients, waits that explain themselves on failure."""

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def local_kubeconfig() -> str:
    """Path of the local cluster's kubeconfig, starting the cluster when it is down."""
    out = subprocess.run(
        ["bash", str(ROOT / "hack" / "cluster-up.sh")], check=True, capture_output=True, text=True
    ).stdout
    out = subprocess.run(
        ["bash", str(ROOT / "hack" / "kubeconfig.sh")], check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def api_client(kubeconfig: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=kubeconfig)


def diagnostics(api: client.ApiClient, namespace: str) -> str:
    """Events and pod logs of a namespace, for a failed wait's message."""
    core = client.CoreV1Api(api)
    lines = [f"--- events in {namespace}"]
    for ev in sorted(core.list_namespaced_event(namespace).items, key=lambda e: str(e.last_timestamp)):
        obj = ev.involved_object
        lines.append(f"{ev.last_timestamp} {obj.kind}/{obj.name} {ev.type} {ev.reason}: {ev.message}")
    for pod in core.list_namespaced_pod(namespace).items:
        lines.append(f"--- pod {pod.metadata.name} phase={pod.status.phase}")
        for cs in pod.status.container_statuses or []:
            lines.append(f"    container {cs.name} state={cs.state}")
        try:
            log = core.read_namespaced_pod_log(pod.metadata.name, namespace, tail_lines=40)
            lines.extend("    | " + line for line in log.splitlines())
        except client.ApiException as exc:
            lines.append(f"    (no log: {exc.reason})")
    return "\n".join(lines)


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    api: client.ApiClient | None = None,
    namespace: str | None = None,
    interval: float = 0.25,
) -> T:
    """Polls ``probe`` until it returns something truthy; on timeout fails with cluster diagnostics."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    detail = diagnostics(api, namespace) if api is not None and namespace else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}\n{detail}")
