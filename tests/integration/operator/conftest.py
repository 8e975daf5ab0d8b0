"""Operator processes started by a test are stopped by pid when it ends, with their logs on failure."""

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from op_support import OperatorProcess
from support.kube import ROOT
from support.processes import started_by_test


@pytest.fixture(scope="session", autouse=True)
def stand_in_worker_image() -> None:
    """The operator tests run debian:bookworm-slim as their worker: make sure the node has it, whatever
    ran before (a cluster started by `make demo` holds only the project images)."""
    subprocess.run(["bash", str(ROOT / "hack" / "images.sh"), "base"], check=True, capture_output=True)


@pytest.fixture
def start_operator(kubeconfig, namespace, tmp_path, request) -> Iterator[Callable[..., OperatorProcess]]:
    def make(name: str = "op", **settings: Any) -> OperatorProcess:
        return OperatorProcess(kubeconfig, namespace, tmp_path, name=name, **settings)

    yield from started_by_test(request, make)
