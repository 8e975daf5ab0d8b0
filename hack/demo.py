"""`make demo`: a real merge end to end on the local installation, driven by the `videomerge` CLI.

Makes three clips of different shapes with ffmpeg, serves them on loopback, starts a merge with
`videomerge merge`, follows it with `videomerge wait` (live bar, then the download), and saves the merge's
storyboard. It prints only what a person needs: the commands, the CLI's own output, where the files are.
"""

import functools
import http.server
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx

API = "http://127.0.0.1:8080"
WORK = Path.home() / ".cache" / "videomerge" / "demo"
CLI = [str(Path(sys.executable).with_name("videomerge"))]
CLIPS = {  # name: (lavfi video source, audio source or None, seconds)
    "landscape-720p-30fps.mp4": ("testsrc2=size=1280x720:rate=30", "sine=frequency=440", 4),
    "portrait-25fps-silent.mov": ("smptebars=size=720x1280:rate=25", None, 3),
    "classic-4x3-24fps.mkv": ("mandelbrot=size=640x480:rate=24", "sine=frequency=660:sample_rate=44100", 3),
}
BOLD, RESET = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")


def make_clips() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    for name, (video, audio, seconds) in CLIPS.items():
        path = WORK / name
        if path.exists():
            continue
        args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", video]
        if audio:
            args += ["-f", "lavfi", "-i", audio]
        args += ["-t", str(seconds), "-pix_fmt", "yuv420p", str(path)]
        subprocess.run(args, check=True)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class ClipServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], address: object) -> None:
        # The worker reads byte ranges and closes a connection as soon as it has what it needs: for this
        # server that is a broken pipe, and not worth a traceback on a person's screen.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, address)


def serve_clips() -> tuple[ClipServer, str]:
    server = ClipServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(WORK)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def admin_token() -> str:
    """`make token NAME=admin`: the admin token the chart generated (auth is on by default)."""
    script = Path(__file__).resolve().parent / "token.sh"
    out = subprocess.run(["bash", str(script), "admin"], check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def show(args: list[str]) -> None:
    words = ["videomerge", *args[1:]]
    print(f"\n{BOLD}$ {shlex.join(words)}{RESET}", flush=True)


def main() -> int:
    make_clips()
    server, base = serve_clips()
    env = os.environ | {"VIDEOMERGE_URL": API, "VIDEOMERGE_TOKEN": admin_token()}
    print(f"{BOLD}Clips{RESET} served on {base}: " + ", ".join(CLIPS))
    print("(the CLI reads the admin token from VIDEOMERGE_TOKEN; `make token NAME=<client>` makes others)")
    try:
        urls = [f"{base}/{name}" for name in CLIPS]
        start = [*CLI, "merge", *urls, "--quality", "medium", "--aspect-ratio", "16:9"]
        show(start)
        started = subprocess.run([*start, "--output", "json"], env=env, capture_output=True, text=True)
        if started.returncode != 0:
            sys.stderr.write(started.stderr)
            return started.returncode
        task_id = json.loads(started.stdout)["task_id"]
        print(f"Merge {task_id} started (3 clips)")

        merged = WORK / "merged.mp4"
        follow = [*CLI, "wait", task_id, "-o", str(merged)]
        show(follow)
        code = subprocess.run(follow, env=env).returncode
        if code != 0:
            return code

        result = subprocess.run(
            [*CLI, "result", task_id, "--output", "json"], env=env, capture_output=True, text=True, check=True
        )
        storyboard_url = json.loads(result.stdout).get("storyboard_url")
        if storyboard_url:
            storyboard = WORK / "storyboard.jpg"
            storyboard.write_bytes(httpx.get(storyboard_url, timeout=30).raise_for_status().content)
            print(f"\n{BOLD}Storyboard{RESET} (one tile per clip, in order): {storyboard}")
        print(f"{BOLD}Merged file{RESET}: {merged} — play it with any video player")
        namespace = os.environ.get("VIDEOMERGE_NAMESPACE", "videomerge")
        kubectl = ["kubectl", "-n", namespace, "get", "videomerge", task_id]
        print(f"\n{BOLD}$ {shlex.join(kubectl)}{RESET}", flush=True)
        subprocess.run(kubectl, check=False)
        return 0
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
