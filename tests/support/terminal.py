"""A real terminal for tests of interactive programs: a tmux session of its own, read as a person sees it."""

import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

# The CLI as a person runs it, from this interpreter's environment.
CLI = [sys.executable, "-m", "videomerge_cli"]


class Terminal:
    """One tmux session of its own (own server socket), 140x30, running one command."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, width: int = 140) -> None:
        self.socket_name = f"vmcli-{uuid.uuid4().hex[:10]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = f'env -i {exports} {shlex.join(argv)}; echo "[exit $?]"; sleep 600'
        self._tmux(
            "new-session",
            "-d",
            "-s",
            "cli",
            "-x",
            str(width),
            "-y",
            "30",
            "-c",
            str(cwd),
            "bash",
            "-c",
            command,
        )

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket_name, "-f", os.devnull, *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-J", "-t", "cli")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "cli", *keys)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on screen after {timeout}s; screen:\n{screen}")

    def exit_code(self, timeout: float = 30.0) -> int:
        screen = self.wait_for("[exit ", timeout)
        return int(screen.rsplit("[exit ", 1)[1].split("]", 1)[0])

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket_name, "kill-server"], capture_output=True, timeout=20)
