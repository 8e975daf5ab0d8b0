"""Notifier processes started by a test are stopped by pid when it ends, with their logs on failure."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from notifier_support import NotifierProcess, restricted_kubeconfig
from support.webhook_receiver import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def notifier_kubeconfig(kube, kubeconfig, namespace, tmp_path) -> str:
    return restricted_kubeconfig(kube, kubeconfig, namespace, tmp_path / "notifier.kubeconfig")


@pytest.fixture
def start_notifier(
    notifier_kubeconfig, namespace, tmp_path, request
) -> Iterator[Callable[..., NotifierProcess]]:
    started: list[NotifierProcess] = []

    def start(name: str = "notifier", **settings: Any) -> NotifierProcess:
        process = NotifierProcess(notifier_kubeconfig, namespace, tmp_path, name, **settings)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        if process.process is not None and process.process.poll() is None:
            process.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for process in started:
            print(f"--- log of notifier {process.name}\n{process.logs()[-20000:]}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
