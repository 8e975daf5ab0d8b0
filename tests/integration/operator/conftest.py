"""Operator processes started by a test are stopped by pid when it ends, with their logs on failure."""

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from op_support import OperatorProcess
from support.kube import ROOT


@pytest.fixture(scope="session", autouse=True)
def stand_in_worker_image() -> None:
    """The operator tests run debian:bookworm-slim as their worker: make sure the node has it, whatever
    ran before (a cluster started by `make demo` holds only the project images)."""
    subprocess.run(["bash", str(ROOT / "hack" / "images.sh"), "base"], check=True, capture_output=True)


@pytest.fixture
def start_operator(kubeconfig, namespace, tmp_path, request) -> Iterator[Callable[..., OperatorProcess]]:
    started: list[OperatorProcess] = []

    def start(name: str = "op", **settings: Any) -> OperatorProcess:
        process = OperatorProcess(kubeconfig, namespace, tmp_path, name=name, **settings)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        if process.process is not None and process.process.poll() is None:
            process.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for process in started:
            print(f"--- log of operator {process.name} (pid {process.pid})\n{process.logs()[-20000:]}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
