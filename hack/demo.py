"""`make demo`: a real merge end to end through the REST API of the local installation.

Makes three clips of different shapes with ffmpeg, serves them on loopback, submits a merge, shows its
progress until it ends, then prints the result, downloads the merged file and describes it with ffprobe.
"""

import functools
import http.server
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

API = "http://127.0.0.1:8080"
WORK = Path.home() / ".cache" / "videomerge" / "demo"
CLIPS = {  # name: (lavfi video source, audio source or None)
    "landscape-720p-30fps.mp4": (
        "testsrc2=size=1280x720:rate=30:duration=4",
        "sine=frequency=440:duration=4",
    ),
    "portrait-25fps-silent.mov": ("smptebars=size=720x1280:rate=25:duration=3", None),
    "classic-4x3-24fps.mkv": (
        "mandelbrot=size=640x480:rate=24",
        "sine=frequency=660:duration=3:sample_rate=44100",
    ),
}
console = Console()


def make_clips() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    for name, (video, audio) in CLIPS.items():
        path = WORK / name
        if path.exists():
            continue
        args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", video]
        if audio:
            args += ["-f", "lavfi", "-i", audio]
        args += ["-t", "4" if "720p" in name else "3", "-pix_fmt", "yuv420p", str(path)]
        subprocess.run(args, check=True)


def serve_clips() -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(WORK))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def follow(client: httpx.Client, task_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task("pending", total=100)
        while time.monotonic() < deadline:
            status = client.get(f"/api/v1/merge/{task_id}/status").json()
            stage = status.get("stage") or ""
            progress.update(
                bar, completed=status["progress"], description=f"{status['status']:<10} {stage:<11}"
            )
            if status["status"] in ("completed", "failed"):
                return status
            time.sleep(0.5)
    raise SystemExit(f"merge {task_id} did not finish within {timeout:.0f}s")


def admin_token() -> str:
    """`make token NAME=admin`: the admin token the chart generated (auth is on by default)."""
    script = Path(__file__).resolve().parent / "token.sh"
    out = subprocess.run(["bash", str(script), "admin"], check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def main() -> int:
    make_clips()
    server, base = serve_clips()
    try:
        headers = {"authorization": f"Bearer {admin_token()}"}
        console.print(
            "[bold]Token[/bold] of the admin client: make token NAME=admin (NAME=<client> for others)"
        )
        with httpx.Client(base_url=API, timeout=30, headers=headers) as client:
            body = {
                "video_urls": [f"{base}/{name}" for name in CLIPS],
                "quality": "medium",
                "aspect_ratio": "16:9",
            }
            console.print(f"[bold]POST {API}/api/v1/merge[/bold]", json.dumps(body, indent=2))
            accepted = client.post("/api/v1/merge", json=body)
            accepted.raise_for_status()
            task_id = accepted.json()["task_id"]
            console.print(f"→ {accepted.status_code} {accepted.json()}")
            final = follow(client, task_id)
            result = client.get(f"/api/v1/merge/{task_id}/result").json()
        console.print(f"[bold]GET /api/v1/merge/{task_id}/result[/bold]")
        console.print_json(data=result)
        if final["status"] != "completed":
            return 1
        merged = WORK / "merged.mp4"
        with httpx.stream("GET", result["merged_url"], timeout=60) as download:
            download.raise_for_status()
            merged.write_bytes(download.read())
        probe = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "stream=codec_type,codec_name,width,height:format=duration",
                "-of",
                "json",
                str(merged),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        console.print(f"[bold]Downloaded {merged}[/bold] ({merged.stat().st_size} bytes):")
        console.print_json(probe)
        console.print(f"[bold]merged_url[/bold] {result['merged_url']}")
        return 0
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
