"""The kind tests' view of the cluster: kubectl and helm as a user runs them, inside the kind cluster's
network namespace (hack/kind/run.sh puts them on PATH and exports KUBECONFIG and API), and the clips.
Two 720p H.264/AAC clips stream-copy together, a small one needs re-encoding beside them (partial), and
the e2e layer's three shapes need a full re-encode."""

import base64
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from support.kube import ROOT
from support.media import ClipSpec
from support.merges import CLIPS

CLIP_SERVER_NAMESPACE = "videomerge-clips"
HD_A = ClipSpec(width=1280, height=720, fps="30", seconds=2.0)
HD_B = ClipSpec(width=1280, height=720, fps="30", seconds=1.5, tone_hz=660)
SMALL = ClipSpec(width=640, height=360, fps="30", seconds=1.0)
KIND_CLIPS = {"hd-a.mp4": HD_A, "hd-b.mp4": HD_B, "small.mp4": SMALL, **CLIPS}
# The copy, partial and re-encode merges: their clips and what the worker must choose.
PLANS = {
    "copy": ["hd-a.mp4", "hd-b.mp4"],
    "partial": ["hd-a.mp4", "small.mp4", "hd-b.mp4"],
    "reencode": list(CLIPS),
}


def seconds(names: list[str]) -> float:
    return sum(KIND_CLIPS[name].seconds for name in names)


VALUES = ROOT / "hack" / "kind" / "values.yaml"
CLIP_SERVER_PORT = 8000


def run(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert out.returncode == 0, f"{' '.join(args)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out


@dataclass
class Kind:
    """The release on the kind cluster, driven with kubectl and helm like a user would."""

    api_url: str
    release: str
    namespace: str
    token: str | None = field(default=None)

    def kubectl(self, *args: str, namespace: str | None = None, timeout: float = 300) -> str:
        return run("kubectl", "-n", namespace or self.namespace, *args, timeout=timeout).stdout

    def kubectl_json(self, *args: str, namespace: str | None = None) -> dict:
        data: dict = json.loads(self.kubectl(*args, "-o", "json", namespace=namespace))
        return data

    def helm(self, *args: str, timeout: float = 600) -> str:
        return run("helm", *args, "-n", self.namespace, timeout=timeout).stdout

    def install(self) -> None:
        self.helm(
            "upgrade", "--install", self.release, str(ROOT / "charts" / "videomerge"),
            "--create-namespace", "-f", str(VALUES), "--wait", "--timeout", "5m",
        )  # fmt: skip

    def pods(self, selector: str, namespace: str | None = None) -> list[dict]:
        items: list[dict] = self.kubectl_json("get", "pods", "-l", selector, namespace=namespace)["items"]
        return items

    def api_ready(self) -> bool:
        try:
            return httpx.get(f"{self.api_url}/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False


def api_token(kind: Kind) -> str | None:
    """The admin token the chart generates when API auth is on (Secret <fullname>-api-token, key
    `token`); None when the release has none (auth off)."""
    fullname = kind.release if "videomerge" in kind.release else f"{kind.release}-videomerge"
    jsonpath = "jsonpath={.data.token}"
    out = run(
        "kubectl", "-n", kind.namespace, "get", "secret", f"{fullname}-api-token", "-o", jsonpath, check=False
    )
    if out.returncode != 0 or not out.stdout.strip():
        return None
    return base64.b64decode(out.stdout).decode().strip()


@dataclass(frozen=True)
class ClipServer:
    """The test clips, served by a pod behind a Service (support/http_server.py's knobs work)."""

    base: str

    def url(self, name: str, **knobs: object) -> str:
        query = "&".join(f"{k}={v}" for k, v in knobs.items())
        return f"{self.base}/{name}" + (f"?{query}" if query else "")


def clip_server_manifest(kind: Kind) -> str:
    image = json.loads(
        run("helm", "get", "values", kind.release, "-n", kind.namespace, "-a", "-o", "json").stdout
    )
    tag = image["image"]["tag"]
    control = f"{image['image']['control']}:{tag}"
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "clip-server", "labels": {"app": "clip-server"}},
                    "spec": {
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001},
                        "containers": [
                            {
                                "name": "serve",
                                "image": control,
                                "imagePullPolicy": "Never",
                                "command": [
                                    "python3",
                                    "/srv/http_server.py",
                                    "/clips",
                                    str(CLIP_SERVER_PORT),
                                ],
                                "ports": [{"containerPort": CLIP_SERVER_PORT}],
                                "readinessProbe": {
                                    "tcpSocket": {"port": CLIP_SERVER_PORT},
                                    "periodSeconds": 1,
                                },
                                "volumeMounts": [
                                    {"name": "clips", "mountPath": "/clips"},
                                    {"name": "server", "mountPath": "/srv"},
                                ],
                            }
                        ],
                        "volumes": [
                            {"name": "clips", "emptyDir": {}},
                            {"name": "server", "configMap": {"name": "clip-server"}},
                        ],
                    },
                },
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": "clip-server"},
                    "spec": {
                        "selector": {"app": "clip-server"},
                        "ports": [{"port": 80, "targetPort": CLIP_SERVER_PORT}],
                    },
                },
            ],
        }
    )


def download(url: str, to: Path, attempts: int = 5) -> Path:
    """GET through the MinIO port-forward; a forward being re-established is retried briefly."""
    for attempt in range(attempts):
        try:
            with httpx.stream("GET", url, timeout=60) as response:
                response.raise_for_status()
                to.write_bytes(response.read())
            return to
        except httpx.TransportError:
            if attempt == attempts - 1:
                raise
            time.sleep(2)
    return to
