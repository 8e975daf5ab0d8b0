"""Notifier processes started by a test are stopped by pid when it ends, with their logs on failure."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from notifier_support import NotifierProcess, restricted_kubeconfig
from support.processes import started_by_test
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
    def make(name: str = "notifier", **settings: Any) -> NotifierProcess:
        return NotifierProcess(notifier_kubeconfig, namespace, tmp_path, name, **settings)

    yield from started_by_test(request, make)
