"""The chart with its default values on the kind cluster (hack/kind/), from inside its network namespace.

`make test-kind` (hack/run-tests.sh kind) brings the cluster up and runs these tests through
hack/kind/run.sh, which exports KUBECONFIG and API and puts kubectl and helm on PATH.
"""

import os
from collections.abc import Iterator

import httpx
import pytest
from support.kind import (
    CLIP_SERVER_NAMESPACE,
    KIND_CLIPS,
    ClipServer,
    Kind,
    api_token,
    clip_server_manifest,
    run,
)
from support.kube import ROOT
from support.media import make_clip
from support.merges import wait


@pytest.fixture(scope="session")
def kind() -> Kind:
    missing = [name for name in ("KUBECONFIG", "API") if not os.environ.get(name)]
    assert not missing, f"{missing} unset: run these tests with `make test-kind` (inside the kind namespace)"
    release = os.environ.get("VIDEOMERGE_KIND_RELEASE", "videomerge")
    kind = Kind(os.environ["API"], release, os.environ.get("VIDEOMERGE_KIND_NAMESPACE", "videomerge"))
    # A layer makes sure of what it needs: the release may have been removed since kind-up.
    status = run("helm", "status", release, "-n", kind.namespace, check=False)
    if status.returncode != 0 or "STATUS: deployed" not in status.stdout:
        kind.install()
    wait(kind.api_ready, 120, f"the API at {kind.api_url} (the port-forward of hack/kind/up.sh)", interval=1)
    kind.token = api_token(kind)
    return kind


@pytest.fixture
def api(kind: Kind) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {kind.token}"} if kind.token else {}
    with httpx.Client(base_url=kind.api_url, timeout=30, headers=headers) as http:
        yield http


@pytest.fixture(scope="session")
def clip_server(kind: Kind, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClipServer]:
    root = tmp_path_factory.mktemp("kind-clips")
    for name, spec in KIND_CLIPS.items():
        make_clip(root / name, spec)
    (root / "not-a-video.mp4").write_text("this is a text file, not a video\n")
    ns = CLIP_SERVER_NAMESPACE
    run("kubectl", "delete", "namespace", ns, "--ignore-not-found", "--wait=true", timeout=180)
    run("kubectl", "create", "namespace", ns)
    server_py = ROOT / "tests" / "support" / "http_server.py"
    run("kubectl", "-n", ns, "create", "configmap", "clip-server", f"--from-file=http_server.py={server_py}")
    manifest = root.parent / "clip-server.json"
    manifest.write_text(clip_server_manifest(kind))
    run("kubectl", "-n", ns, "apply", "-f", str(manifest))
    run(
        "kubectl", "-n", ns, "wait", "--for=condition=Ready", "pod/clip-server", "--timeout=180s", timeout=200
    )
    for clip in sorted(root.iterdir()):
        run("kubectl", "-n", ns, "cp", str(clip), f"clip-server:/clips/{clip.name}")
    yield ClipServer(f"http://clip-server.{ns}.svc.cluster.local")
    run("kubectl", "delete", "namespace", ns, "--wait=false", check=False)
