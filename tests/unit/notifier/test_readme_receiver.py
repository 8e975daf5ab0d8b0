"""The README's webhook receiver, run as written: it accepts what the notifier signs and nothing else."""

import base64
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest
from support.tools import ROOT

from videomerge_notifier.delivery import body_bytes
from videomerge_notifier.signing import signed_headers

SECRET = "whsec_" + base64.b64encode(b"r" * 32).decode()


def readme_receiver() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    (code,) = [b for b in blocks if b.startswith("# receiver.py")]
    return code


@pytest.fixture
def receiver(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "receiver.py"
    script.write_text(readme_receiver())
    env = {**os.environ, "WEBHOOK_SECRET": SECRET, "PORT": str(port)}
    process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, "receiver did not start"
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", process
    process.kill()
    process.wait(timeout=10)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_readme_receiver_verifies_and_deduplicates(receiver):
    url, process = receiver
    body = body_bytes({"type": "merge.completed", "task_id": "vm-7", "merged_url": "https://s3/x.mp4"})
    headers = {"content-type": "application/json", **signed_headers(SECRET, "msg_7", body, datetime.now(UTC))}
    assert _post(url, body, headers) == 204
    assert _post(url, body, headers) == 204  # the same webhook-id again: accepted, handled once
    assert _post(url, body.replace(b"vm-7", b"vm-8"), headers) == 401
    other = "whsec_" + base64.b64encode(b"o" * 32).decode()
    assert _post(url, body, signed_headers(other, "msg_9", body, datetime.now(UTC))) == 401
    process.kill()
    out, _ = process.communicate(timeout=10)
    assert out.splitlines() == ["merge.completed vm-7 https://s3/x.mp4"]
