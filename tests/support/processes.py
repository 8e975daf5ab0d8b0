"""A VideoMerge component (operator, notifier) run by a test as a real process against the local cluster:
its console script with ``VIDEOMERGE_<COMPONENT>_*`` settings, its HTTP port on loopback, its log in a file;
stopped by its pid. ``started_by_test`` is the body of a ``start_<component>`` fixture."""

import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self, TypeVar

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ComponentProcess:
    """``program`` run with ``values`` as ``VIDEOMERGE_<component>_<KEY>`` (``settings`` override them, their
    keys upper-cased); settings of the component already in the environment are dropped. It serves its
    probes and metrics on 127.0.0.1:``port``."""

    component = "component"  # for messages and the settings prefix
    stop_timeout = 30.0

    def __init__(
        self,
        program: Path,
        kubeconfig: str,
        name: str,
        log_path: Path,
        port: int,
        values: dict[str, str],
        settings: dict[str, Any],
    ) -> None:
        self.program, self.name, self.log_path, self.port = program, name, log_path, port
        prefix = f"VIDEOMERGE_{self.component.upper()}_"
        values = {**values, **{k.upper(): str(v) for k, v in settings.items()}}
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(prefix)},
            "KUBECONFIG": kubeconfig,
            **{prefix + k: v for k, v in values.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(self.program)], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def get(self, path: str) -> tuple[int, str]:
        """HTTP status and body of ``path`` on the process's port; (0, "") when nothing answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=3) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""

    def stop(self, timeout: float | None = None) -> int:
        """SIGTERM and wait: the graceful path. Killed, and the test failed, if it does not end in time."""
        timeout = self.stop_timeout if timeout is None else timeout
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.component} {self.name} did not stop within {timeout}s on SIGTERM"
            ) from None

    def kill(self) -> None:
        """SIGKILL: a crash, nothing handed over."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> Self:
        raise NotImplementedError


P = TypeVar("P", bound=ComponentProcess)


def started_by_test(request: pytest.FixtureRequest, make: Callable[..., P]) -> Iterator[Callable[..., P]]:
    """Yields ``start(…)``, which makes a process with ``make(…)`` and starts it. When the test ends, each
    one still running is stopped by its pid; if the test failed, their logs are printed (the tail)."""
    started: list[P] = []

    def start(*args: Any, **kwargs: Any) -> P:
        process = make(*args, **kwargs)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        if process.running:
            process.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for process in started:
            pid = process.process.pid if process.process else "not started"
            print(f"--- log of {process.component} {process.name} (pid {pid})\n{process.logs()[-20000:]}")
