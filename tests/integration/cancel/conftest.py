"""The whole cancel path on the local cluster: the API in-process, the operator and the notifier as real
processes (stopped by pid), a webhook receiver on loopback. Borrows the support modules of the api,
operator and notifier layers."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.kube import ROOT
from support.webhook_receiver import WebhookReceiver

for layer in ("api", "operator", "notifier"):
    path = str(Path(__file__).resolve().parents[1] / layer)
    if path not in sys.path:
        sys.path.append(path)

from notifier_support import NotifierProcess, restricted_kubeconfig  # noqa: E402
from op_support import OperatorProcess, sleeper  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def stand_in_worker_image() -> None:
    """The operator runs debian:bookworm-slim as its worker here: make sure the node has it."""
    subprocess.run(["bash", str(ROOT / "hack" / "images.sh"), "base"], check=True, capture_output=True)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def operator_process(kubeconfig, namespace, tmp_path, request) -> Iterator[OperatorProcess]:
    """An operator whose worker pods only sleep (the test writes the worker's status)."""
    process = OperatorProcess(kubeconfig, namespace, tmp_path, name="op", worker_command=sleeper(600))
    process.start()
    yield process
    if process.process is not None and process.process.poll() is None:
        process.stop()
    _print_log_on_failure(request, "operator", process.logs())


@pytest.fixture
def notifier_process(kube, kubeconfig, namespace, tmp_path, request) -> Iterator[NotifierProcess]:
    """A notifier holding only the chart's notifier rules."""
    config = restricted_kubeconfig(kube, kubeconfig, namespace, tmp_path / "notifier.kubeconfig")
    process = NotifierProcess(config, namespace, tmp_path, "notifier").start()
    yield process
    if process.process is not None and process.process.poll() is None:
        process.stop()
    _print_log_on_failure(request, "notifier", process.logs())


def _print_log_on_failure(request: pytest.FixtureRequest, what: str, log: str) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"--- log of the {what}\n{log[-20000:]}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
