"""The notifier as a real process against the local cluster, holding only the chart's permissions."""

import base64
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from support.chart import of_kind, render
from support.kube import ROOT
from support.processes import ComponentProcess, free_port

from videomerge_contract.resource import GROUP, PLURAL, VERSION

NOTIFIER = ROOT / ".venv" / "bin" / "videomerge-notifier"
SECRET = "whsec_" + base64.b64encode(bytes(range(32, 64))).decode()
SA = "notifier"


def chart_notifier_rules() -> list[dict[str, Any]]:
    """The rules the chart grants the notifier, rendered from the chart itself."""
    (role,) = [d for d in of_kind(render(), "ClusterRole") if d["metadata"]["name"].endswith("-notifier")]
    return list(role["rules"])


def restricted_kubeconfig(kube: client.ApiClient, admin_kubeconfig: str, namespace: str, path: Path) -> str:
    """A kubeconfig for a ServiceAccount bound (in ``namespace``) to exactly the chart's notifier rules."""
    core, rbac = client.CoreV1Api(kube), client.RbacAuthorizationV1Api(kube)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": SA}})
    rbac.create_namespaced_role(namespace, {"metadata": {"name": SA}, "rules": chart_notifier_rules()})
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": SA},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SA},
            "subjects": [{"kind": "ServiceAccount", "name": SA, "namespace": namespace}],
        },
    )
    token = core.create_namespaced_service_account_token(
        SA, namespace, {"spec": {"expirationSeconds": 3600}}
    ).status.token
    admin = yaml.safe_load(Path(admin_kubeconfig).read_text())
    cluster = admin["clusters"][0]
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [cluster],
                "users": [{"name": SA, "user": {"token": token}}],
                "contexts": [{"name": SA, "context": {"cluster": cluster["name"], "user": SA}}],
                "current-context": SA,
            }
        )
    )
    return str(path)


class NotifierProcess(ComponentProcess):
    component = "notifier"
    stop_timeout = 20.0

    def __init__(self, kubeconfig: str, namespace: str, workdir: Path, name: str, **settings: Any) -> None:
        port = free_port()
        secret_file = workdir / "webhook-secret"
        secret_file.write_text(SECRET)
        values = {
            "NAMESPACES": namespace,
            "SECRET_FILE": str(secret_file),
            "ALLOW_PRIVATE_URLS": "true",
            "BACKOFF_INITIAL_SECONDS": "0.5",
            "BACKOFF_MAX_SECONDS": "2",
            "CONNECT_TIMEOUT_SECONDS": "2",
            "READ_TIMEOUT_SECONDS": "5",
            "ATTEMPT_TIMEOUT_SECONDS": "2",
            "IDENTITY": name,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            "LOG_FORMAT": "json",
            "KUBECONFIG": kubeconfig,
        }
        super().__init__(NOTIFIER, kubeconfig, name, workdir / f"{name}.log", port, values, settings)

    def start(self) -> "NotifierProcess":
        self.launch()
        deadline = time.monotonic() + 30
        while self.get("/readyz")[0] != 200:
            assert self.running, f"notifier {self.name} exited:\n{self.logs()}"
            assert time.monotonic() < deadline, f"notifier {self.name} did not start:\n{self.logs()}"
            time.sleep(0.1)
        return self

    def metric(self, name: str, **labels: str) -> float | None:
        """A sample from /metrics, e.g. metric("videomerge_notifier_attempts_total", outcome="retry")."""
        wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
        for line in self.get("/metrics")[1].splitlines():
            if line.startswith(wanted + " "):
                return float(line.rsplit(" ", 1)[1])
        return None


def create_merge(custom: client.CustomObjectsApi, namespace: str, name: str, callback: str) -> dict[str, Any]:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "VideoMerge",
        "metadata": {"name": name},
        "spec": {"videoUrls": [f"https://example.com/{name}/a.mp4"], "callbackUrl": callback},
    }
    return custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def complete(custom: client.CustomObjectsApi, namespace: str, name: str) -> None:
    """Writes a Completed status as the worker does."""
    status = {
        "phase": "Completed",
        "stage": "done",
        "progress": 100,
        "completionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "result": {
            "mergedUrl": f"https://s3.example.com/{name}.mp4",
            "durationSeconds": 4.0,
            "processingTime": 1.5,
            "clipsMerged": 1,
        },
    }
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name, {"status": status})


def notification(custom: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    obj = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    return (obj.get("status") or {}).get("notification") or {}


def event_reasons(kube: client.ApiClient, namespace: str, name: str) -> list[str]:
    events = client.CoreV1Api(kube).list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={name}"
    )
    return [e.reason for e in sorted(events.items, key=lambda e: (str(e.first_timestamp), e.metadata.name))]
