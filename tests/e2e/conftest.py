"""The chart installed on the local cluster (make up), real worker containers, the REST API on loopback."""

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from kubernetes import client
from support.http_server import FileServer
from support.kube import ROOT, api_client
from support.media import make_clip
from support.merges import API_URL, CLIPS

NAMESPACE = "videomerge"
RELEASE = "videomerge"


@dataclass
class Installation:
    kubeconfig: str
    kube: client.ApiClient
    namespace: str = NAMESPACE
    release: str = RELEASE

    def admin_token(self) -> str:
        """The admin token the chart generated (what `make token NAME=admin` prints)."""
        return (
            subprocess.run(
                ["bash", str(ROOT / "hack" / "token.sh"), "admin"], check=True, capture_output=True, text=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )

    def webhook_secret(self) -> str:
        """The webhook signing secret the chart generated (what `make webhook-secret` prints)."""
        out = subprocess.run(
            ["make", "-s", "webhook-secret"], cwd=ROOT, check=True, capture_output=True, text=True
        )
        return out.stdout.strip().splitlines()[-1]

    def kubectl(self, *args: str) -> str:
        return subprocess.run(
            ["kubectl", "--kubeconfig", self.kubeconfig, "-n", self.namespace, *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout


@pytest.fixture(scope="session")
def installation() -> Installation:
    try:
        ready = httpx.get(f"{API_URL}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        ready = False
    if not ready:
        subprocess.run(["bash", str(ROOT / "hack" / "up.sh")], check=True)
    kubeconfig = (
        subprocess.run(
            ["bash", str(ROOT / "hack" / "kubeconfig.sh")], check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return Installation(kubeconfig=kubeconfig, kube=api_client(kubeconfig))


@pytest.fixture
def api(installation: Installation) -> Iterator[httpx.Client]:
    """The REST API as the chart's admin client (auth is on by default)."""
    headers = {"authorization": f"Bearer {installation.admin_token()}"}
    with httpx.Client(base_url=API_URL, timeout=30, headers=headers) as http:
        yield http


@pytest.fixture(scope="session")
def clip_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    root = tmp_path_factory.mktemp("clips")
    for name, spec in CLIPS.items():
        make_clip(root / name, spec)
    (root / "not-a-video.mp4").write_text("this is a text file, not a video\n")
    with FileServer(root) as server:
        yield server
