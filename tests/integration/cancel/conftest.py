"""The whole cancel path on the local cluster: the API in-process, the operator and the notifier as real
processes (support.processes: stopped by pid, logs on failure), a webhook receiver on loopback. Borrows
the support modules of the api, operator and notifier layers."""

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.kube import ROOT
from support.processes import started_by_test
from support.webhook_receiver import WebhookReceiver

for layer in ("api", "operator", "notifier"):
    path = str(Path(__file__).resolve().parents[1] / layer)
    if path not in sys.path:
        sys.path.append(path)

from notifier_support import NotifierProcess, restricted_kubeconfig  # noqa: E402
from op_support import OperatorProcess  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def stand_in_worker_image() -> None:
    """The operator runs debian:bookworm-slim as its worker here: make sure the node has it."""
    subprocess.run(["bash", str(ROOT / "hack" / "images.sh"), "base"], check=True, capture_output=True)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def start_operator(kubeconfig, namespace, tmp_path, request) -> Iterator[Callable[..., OperatorProcess]]:
    def make(name: str = "op", **settings: Any) -> OperatorProcess:
        return OperatorProcess(kubeconfig, namespace, tmp_path, name=name, **settings)

    yield from started_by_test(request, make)


@pytest.fixture
def start_notifier(
    kube, kubeconfig, namespace, tmp_path, request
) -> Iterator[Callable[..., NotifierProcess]]:
    """Notifiers holding only the chart's notifier rules."""
    config = restricted_kubeconfig(kube, kubeconfig, namespace, tmp_path / "notifier.kubeconfig")

    def make(name: str = "notifier", **settings: Any) -> NotifierProcess:
        return NotifierProcess(config, namespace, tmp_path, name, **settings)

    yield from started_by_test(request, make)
