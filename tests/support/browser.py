"""Headless Debian Chromium, as a person's browser: a page's DOM after its scripts ran."""

import shutil
import subprocess
import tempfile

CHROMIUM = shutil.which("chromium") or "chromium"
# Every host name but loopback fails to resolve: a page that needs a CDN cannot render.
LOOPBACK_ONLY = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"


def rendered_dom(url: str, budget_ms: int = 15_000, timeout: float = 120.0) -> str:
    with tempfile.TemporaryDirectory(prefix="vm-chromium-") as profile:
        answer = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--host-resolver-rules={LOOPBACK_ONLY}",
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if answer.returncode != 0:
        raise AssertionError(f"chromium exited {answer.returncode}: {answer.stderr[-2000:]}")
    return answer.stdout
