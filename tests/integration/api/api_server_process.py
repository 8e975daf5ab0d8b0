"""``videomerge-api`` as a real uvicorn process on 127.0.0.1 and a free port, stopped by its pid."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ApiServer:
    def __init__(self, kubeconfig: str, namespace: str, log_path: Path, **settings: str) -> None:
        self.port = free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "VIDEOMERGE_API_HOST": "127.0.0.1",
            "VIDEOMERGE_API_PORT": str(self.port),
            "VIDEOMERGE_API_KUBECONFIG": kubeconfig,
            "VIDEOMERGE_API_NAMESPACE": namespace,
            # Never the default 9090: the installed chart's API may hold it on the host's loopback.
            "VIDEOMERGE_API_METRICS_PORT": str(free_loopback_port()),
            **{f"VIDEOMERGE_API_{k.upper()}": v for k, v in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float = 30) -> "ApiServer":
        script = Path(sys.executable).parent / "videomerge-api"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([str(script)], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"videomerge-api exited {self.process.returncode}:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"videomerge-api not ready within {ready_timeout}s:\n{self.logs()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "ApiServer":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
