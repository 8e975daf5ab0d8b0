"""A private MinIO on 127.0.0.1 for tests: free ports, a temporary data dir, random root credentials.

    with running_minio(tmp_dir) as minio:   # or the session fixture built on it
        boto3.client("s3", **minio.client_kwargs())

The binary comes from ``hack/build-binaries.sh minio`` (cached outside the repo), built on first use; if
that fails the tests fail, with the command to run, rather than skip.
"""

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from support.tools import CACHE, tool

MINIO = CACHE / "tools" / "bin" / "minio"
REGION = "us-east-1"


class MinioUnavailableError(RuntimeError):
    pass


@dataclass(frozen=True)
class Minio:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    pid: int
    log: Path

    def client_kwargs(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "region_name": REGION,
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_minio(workdir: Path, bucket: str = "videomerge-test", timeout: float = 30.0) -> Iterator[Minio]:
    """Starts MinIO, waits for /minio/health/live, creates ``bucket``; stops MinIO (by pid) on exit."""
    tool("minio")  # builds it into the cache on a machine that has none yet
    if not os.access(MINIO, os.X_OK):
        raise MinioUnavailableError(f"no MinIO binary at {MINIO}: run `bash hack/build-binaries.sh minio`")
    import boto3

    data, log = workdir / "minio-data", workdir / "minio.log"
    data.mkdir(parents=True, exist_ok=True)
    port, console_port = free_port(), free_port()
    access_key, secret_key = f"test{secrets.token_hex(6)}", secrets.token_urlsafe(24)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "MINIO_ROOT_USER": access_key,
        "MINIO_ROOT_PASSWORD": secret_key,
        "MINIO_BROWSER": "off",
        "MINIO_UPDATE": "off",
        "MINIO_CALLHOME_ENABLE": "off",
    }
    address = ["--address", f"127.0.0.1:{port}", "--console-address", f"127.0.0.1:{console_port}"]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(MINIO), "server", *address, "--quiet", str(data)],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_live(endpoint, process, log, timeout)
        minio = Minio(endpoint, access_key, secret_key, bucket, process.pid, log)
        boto3.client("s3", **minio.client_kwargs()).create_bucket(Bucket=bucket)
        yield minio
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_live(endpoint: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MinioUnavailableError(f"MinIO exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{endpoint}/minio/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise MinioUnavailableError(f"MinIO not live after {timeout:g} s:\n{log.read_text()[-2000:]}")
