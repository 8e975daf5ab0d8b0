"""Worker benchmark: the merge command against bare FFmpeg baselines, ratios side by side in one run.

    .venv/bin/python bench/worker/run.py                 # 4 x 120 s 1080p (~1 GB) copy, 4 x 20 s 720p partial
    .venv/bin/python bench/worker/run.py --copy-seconds 30 --partial-seconds 8   # quicker, smaller

The clips are served by nginx on loopback (byte ranges, sendfile; see origin.py), as a CDN serves them.

copy     4 compatible 1080p clips merged by `videomerge-worker merge`, against `ffmpeg -f concat -safe 0
         -i list -c copy` of the same files on local disk (target <= 1.0x), and against `curl --parallel`
         downloading the four to disk (target <= 1.3x): the download floor. All three alternate in one run.
partial  4 clips of which one differs, merged by the worker (downloads included), against a bare FFmpeg
         re-encode of all four local files to the same target.                        target <= 0.4x
memory   peak RSS of the worker process (not its FFmpeg children) during the copy merge. target < 200 MB
pictures the same copy merge with `--pictures` (poster and storyboard, as every Job makes them) against
         it without: what they add to a copy merge's time.                            target <= 1.05x
         Also shown: the pictures made alone from the merged file afterwards (`storyboard.make_pictures`,
         the way a merge FFmpeg made gets them), against the copy merge; "start" is a bare
         `ffmpeg -version` on this host.
Media is generated once and cached in ~/.cache/videomerge/bench (or $VIDEOMERGE_CACHE/bench).

--image IMAGE runs the worker and the FFmpeg baselines as a Job runs them: the image's Python, packages and
FFmpeg build, entered with nsenter (its mount and PID namespaces, so that its /proc is its own; the host's
network, so the same loopback origin), with no container start in the timing. curl stays on the host;
"pictures alone" is not run.
"""

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from origin import nginx_origin  # noqa: E402
from support.media import concat_copy_command  # noqa: E402

from videomerge_contract import Quality  # noqa: E402
from videomerge_worker.ffmpeg_args import ENCODINGS  # noqa: E402
from videomerge_worker.probe import ffprobe  # noqa: E402
from videomerge_worker.storyboard import make_pictures  # noqa: E402

CACHE = Path(os.environ.get("VIDEOMERGE_CACHE", Path.home() / ".cache" / "videomerge")) / "bench"
WORKER = Path(sys.executable).with_name("videomerge-worker")
MIB = 1024 * 1024


@dataclass
class Place:
    """Where the measured commands run: this host, or inside an image (``pid``: a container of it)."""

    pid: int | None = None
    image_env: dict[str, str] = field(default_factory=dict)

    @property
    def worker(self) -> str:
        return str(WORKER) if self.pid is None else "videomerge-worker"

    def wrap(self, cmd: list[str], env: dict[str, str] | None) -> tuple[list[str], dict[str, str] | None]:
        if self.pid is None:
            return cmd, env
        ours = {k: v for k, v in (env or {}).items() if k.startswith("VIDEOMERGE_")}
        settings = [f"{k}={v}" for k, v in {**self.image_env, "HOME": "/tmp", **ours}.items()]
        return ["nsenter", "-t", str(self.pid), "-m", "-p", "--", "env", "-i", *settings, *cmd], None


HOST = Place()
PLACE = HOST  # set by --image


@contextlib.contextmanager
def image_place(image: str, shared: Path) -> Iterator[Place]:
    """A container of ``image`` that only sleeps, ``shared`` mounted at the same path; stopped after."""
    started = subprocess.run(
        [
            *("docker", "run", "-d", "--rm", "--network", "host", "--user", "0"),
            *("-v", f"{shared}:{shared}", "--entrypoint", "sleep", image, "infinity"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    container = started.stdout.strip()
    try:
        inspect = ["docker", "inspect", "-f", "{{.State.Pid}} {{json .Config.Env}}", container]
        pid, env = subprocess.run(inspect, check=True, capture_output=True, text=True).stdout.split(" ", 1)
        image_env = dict(item.split("=", 1) for item in json.loads(env))
        yield Place(int(pid), image_env)
    finally:
        subprocess.run(["docker", "rm", "-f", container], check=False, capture_output=True)


@dataclass
class Run:
    seconds: float
    peak_rss_mib: float | None = None
    child_peak_rss_mib: float | None = None
    stdout: str = ""


def make_clip(path: Path, width: int, height: int, fps: int, seconds: int, mbps: int) -> Path:
    """Test pattern at a constant bitrate (x264 CBR with filler), so the size is what the bench asks."""
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp.mp4")
    rate = f"{mbps}M"
    sources = ["-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r={fps}:d={seconds}"]
    sources += ["-f", "lavfi", "-i", f"sine=f=440:r=48000:d={seconds}"]
    video = ["-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "nal-hrd=cbr", "-b:v", rate]
    video += [
        "-minrate",
        rate,
        "-maxrate",
        rate,
        "-bufsize",
        f"{mbps // 2}M",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "60",
    ]
    audio = ["-c:a", "aac", "-b:a", "128k", "-ac", "2"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *sources, *video, *audio, str(tmp)], check=True)
    tmp.rename(path)
    return path


def variant(source: Path, path: Path, n: int, *, index_first: bool = False) -> Path:
    """A distinct file with the same streams (a remux with its own title), its index first if asked."""
    if not path.exists():
        tmp = path.with_suffix(".tmp.mp4")
        layout = ["-movflags", "+faststart"] if index_first else []
        remux = ["-c", "copy", "-metadata", f"title=clip {n}", *layout, str(tmp)]
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), *remux], check=True)
        tmp.rename(path)
    return path


def timed(cmd: list[str], env: dict[str, str] | None = None, *, inside: bool = True) -> Run:
    """Wall time of ``cmd`` (run in PLACE when ``inside``); peak RSS of the process itself (VmHWM) and of it
    or any child (wait4)."""
    if inside:
        cmd, env = PLACE.wrap(cmd, env)
    started = time.perf_counter()
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, output = [0], {}

    def watch() -> None:
        pid = process.pid
        if cmd[0] == "nsenter":  # entering a PID namespace, nsenter forks: the command is its child
            children = Path(f"/proc/{pid}/task/{pid}/children")
            while process.poll() is None and not (found := children.read_text().split()):
                time.sleep(0.005)
            if process.poll() is not None:
                return
            pid = int(found[0])
        status = Path(f"/proc/{pid}/status")
        while True:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
            except (OSError, ValueError):
                return  # reaped
            time.sleep(0.02)

    def drain(name: str, stream) -> None:
        output[name] = stream.read()

    threads = [
        threading.Thread(target=watch, daemon=True),
        threading.Thread(target=drain, args=("out", process.stdout), daemon=True),
        threading.Thread(target=drain, args=("err", process.stderr), daemon=True),
    ]
    for t in threads:
        t.start()
    _, wait_status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(wait_status)
    for t in threads:
        t.join()
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(cmd)}\n{output.get('err')}")
    return Run(seconds, peak[0] / 1024, usage.ru_maxrss / 1024, output.get("out", ""))


def worker_command(urls: list[str], output: Path, quality: str, pictures: Path | None = None) -> list[str]:
    shown = ["--pictures", str(pictures)] if pictures is not None else []
    return [
        PLACE.worker,
        "merge",
        "--quality",
        quality,
        "--aspect-ratio",
        "16:9",
        *shown,
        "-o",
        str(output),
        *urls,
    ]


def worker_env(scratch: Path, assemble: bool = True) -> dict[str, str]:
    env = {**os.environ, "VIDEOMERGE_ALLOW_PRIVATE_URLS": "true", "VIDEOMERGE_WORK_DIR": str(scratch)}
    env["VIDEOMERGE_ASSEMBLE_COPY_MERGES"] = "true" if assemble else "false"
    return env


def worker_merge(
    urls: list[str],
    output: Path,
    scratch: Path,
    quality: str,
    assemble: bool = True,
    pictures: Path | None = None,
) -> tuple[Run, dict[str, object]]:
    run = timed(worker_command(urls, output, quality, pictures), worker_env(scratch, assemble))
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    if pictures is not None:
        assert result.get("storyboard_url") and result.get("poster_url"), result
    return run, result


@dataclass
class Case:
    name: str
    what: str
    target: float | None  # None: shown for comparison only
    baseline: list[Run]
    worker: list[Run]
    against: str = ""

    @property
    def ratio(self) -> float:
        return best(self.worker).seconds / best(self.baseline).seconds


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.seconds)


@dataclass(frozen=True)
class Baseline:
    name: str
    target: float | None
    command: list[str]
    outputs: list[Path]  # removed before each run
    env: dict[str, str] | None = None
    inside: bool = True  # run where the worker runs (see Place); curl runs on the host


def compare(
    name,
    what,
    baselines: list[Baseline],
    urls,
    output,
    scratch,
    quality,
    strategy,
    repeat,
    assemble=True,
    pictures: Path | None = None,
) -> list[Case]:
    """Every baseline and the worker alternately, ``repeat`` times each (the page cache is warm for all).
    Each run starts without the previous run's output: replacing a just-written 1 GB file costs the kernel
    up to a second on this VM, which would measure the previous run rather than this one; so would the
    writeback of its dirty pages, hence the sync."""
    for baseline in baselines:
        timed(baseline.command, baseline.env, inside=baseline.inside)
    cases = [Case(name, what, b.target, [], [], b.name) for b in baselines]
    worker: list[Run] = []
    for _ in range(repeat):
        for baseline, case in zip(baselines, cases, strict=True):
            for path in baseline.outputs:
                path.unlink(missing_ok=True)
            os.sync()  # the previous run's gigabyte still being written back would slow this one
            case.baseline.append(timed(baseline.command, baseline.env, inside=baseline.inside))
        output.unlink(missing_ok=True)
        if pictures is not None:
            shutil.rmtree(pictures, ignore_errors=True)
        os.sync()
        run, result = worker_merge(urls, output, scratch, quality, assemble, pictures)
        assert result["strategy"] == strategy, result
        worker.append(run)
    for case in cases:
        case.worker = worker
    return cases


def parallel_download(urls: list[str], work: Path) -> Baseline:
    """curl fetching every clip at once to disk: the floor a download-bound merge can reach."""
    outputs = [work / f"curl-{i}.mp4" for i in range(len(urls))]
    command = ["curl", "-s", "-f", "--parallel", "--parallel-max", str(len(urls))]
    for url, path in zip(urls, outputs, strict=True):
        command += ["-o", str(path), url]
    return Baseline("curl", 1.3, command, outputs, inside=False)


def pictures_case(merged: Path, clips: list[Path], copy: Case, work: Path, repeat: int) -> Case:
    """make_pictures on the copy merge's output, timed in this process, against the copy merge's time.
    Also times a bare ``ffmpeg -version``: on this host Debian's FFmpeg loads ~200 shared libraries before
    it does anything, a fixed cost the worker image's own FFmpeg build does not pay."""
    seconds = [
        float(next(s for s in ffprobe(clip)["streams"] if s["codec_type"] == "video")["duration"])
        for clip in clips
    ]
    frame = (1920, 1080)
    runs, startups = [], []
    for _ in range(repeat + 1):  # the first run warms the page cache and loads FFmpeg's libraries
        out = work / "pictures"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        os.sync()  # the merge's gigabyte still being written back would slow this run
        started = time.perf_counter()
        make_pictures(merged, seconds, frame, out, keyframe_starts=True)
        runs.append(Run(time.perf_counter() - started))
        started = time.perf_counter()
        subprocess.run(["ffmpeg", "-version"], check=True, capture_output=True)
        startups.append(time.perf_counter() - started)
    what = f"alone, after (start {min(startups[1:]):.2f}s)"
    return Case("pictures", what, None, [best(copy.worker)], runs[1:], "copy")


def bare_reencode(clips: list[Path], work: Path, width: int, height: int, fps: int) -> list[str]:
    """All four clips through one graph, encoded as the worker encodes at quality medium."""
    encoding = ENCODINGS[Quality.MEDIUM]
    chains = "".join(
        f"[{i}:v]scale={width}:{height},setsar=1,fps={fps},format=yuv420p[v{i}];[{i}:a]aresample=48000[a{i}];"
        for i in range(len(clips))
    )
    joined = "".join(f"[v{i}][a{i}]" for i in range(len(clips)))
    graph = f"{chains}{joined}concat=n={len(clips)}:v=1:a=1[v][a]"
    inputs = [arg for c in clips for arg in ("-i", str(c))]
    encode = ["-c:v", "libx264", "-preset", encoding.preset, "-crf", str(encoding.crf), "-c:a", "aac"]
    return [
        "ffmpeg",
        "-v",
        "error",
        "-y",
        *inputs,
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-map",
        "[a]",
        *encode,
        str(work / "bare-reencode.mp4"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copy-seconds", type=int, default=120, help="length of each 1080p copy clip")
    parser.add_argument("--partial-seconds", type=int, default=20, help="length of each 720p partial clip")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best one counts")
    parser.add_argument("--image", help="run the worker and FFmpeg as in a Job: inside this image")
    args = parser.parse_args()
    global PLACE
    with image_place(args.image, CACHE) if args.image else contextlib.nullcontext(HOST) as place:
        PLACE = place
        return measure(args)


def measure(args: argparse.Namespace) -> int:

    media = CACHE / "media"
    media.mkdir(parents=True, exist_ok=True)
    work = CACHE / "work"
    shutil.rmtree(work, ignore_errors=True)
    scratch = work / "scratch"
    scratch.mkdir(parents=True)

    print(f"preparing media in {media} (cached) ...", flush=True)
    c = args.copy_seconds
    first = make_clip(media / f"copy-{c}s-0.mp4", 1920, 1080, 30, c, 16)
    index_last = [first] + [variant(first, media / f"copy-{c}s-{n}.mp4", n) for n in range(1, 4)]
    index_first = [variant(first, media / f"copy-{c}s-first-{n}.mp4", n, index_first=True) for n in range(4)]
    p = args.partial_seconds
    base = make_clip(media / f"partial-{p}s-0.mp4", 1280, 720, 30, p, 4)
    odd = make_clip(media / f"partial-{p}s-odd.mp4", 960, 540, 25, p, 3)
    partial = [
        base,
        variant(base, media / f"partial-{p}s-1.mp4", 1),
        odd,
        variant(base, media / f"partial-{p}s-3.mp4", 3),
    ]
    size = sum(x.stat().st_size for x in index_last) / MIB

    with nginx_origin(media, work / "nginx") as origin:
        urls = lambda clips: [origin.url(x.name) for x in clips]  # noqa: E731

        def copy(what: str, clips: list[Path], bare: str, assemble: bool) -> list[Case]:
            floor = Baseline(
                "concat", 1.0 if assemble else None, concat_copy_command(clips, work / f"{bare}.mp4"), []
            )
            floor.outputs.append(Path(floor.command[-1]))
            baselines = [floor, parallel_download(urls(clips), work)] if assemble else [floor]
            return compare(
                "copy" if assemble else "copy/ff",
                what,
                baselines,
                urls(clips),
                work / "worker-copy.mp4",
                scratch,
                "high",
                "copy",
                args.repeat,
                assemble,
            )

        described = f"4x{c}s 1080p {size:.0f} MiB"
        reencode = bare_reencode(partial, work, 1280, 720, 30)
        index_last_cases = copy(f"{described}, index last", index_last, "bare-last", True)
        alone = (
            []
            if PLACE is not HOST  # it times make_pictures in this process, with this host's FFmpeg
            else [pictures_case(work / "worker-copy.mp4", index_last, index_last_cases[0], work, args.repeat)]
        )
        plain = work / "worker-plain.mp4"
        without = worker_command(urls(index_last), plain, "high")
        with_pictures = compare(
            "pictures",
            "same, index last, with pictures",
            [Baseline("without", 1.05, without, [plain], worker_env(scratch))],
            urls(index_last),
            work / "worker-copy.mp4",
            scratch,
            "high",
            "copy",
            args.repeat,
            pictures=work / "pictures",
        )
        cases = [
            *index_last_cases,
            *with_pictures,
            *alone,
            *copy(f"{described}, index first", index_first, "bare-first", True),
            *copy("same, index last, FFmpeg way", index_last, "bare-last", False),
            *compare(
                "partial",
                f"4x{p}s 720p, 1 differs",
                [Baseline("reencode", 0.4, reencode, [Path(reencode[-1])])],
                urls(partial),
                work / "worker-partial.mp4",
                scratch,
                "medium",
                "partial",
                args.repeat,
            ),
        ]
        ranges = sum(1 for line in origin.requests() if '" 206 ' in line)

    print()
    print(f"{'case':8} {'input':36} {'baseline':>9} {'s':>6} {'worker s':>9} {'ratio':>7} {'target':>8}  ok")
    for case in cases:
        ok = "-" if case.target is None else "yes" if case.ratio <= case.target else "NO"
        goal = "" if case.target is None else f"<= {case.target}x"
        print(
            f"{case.name:8} {case.what:36} {case.against:>9} {best(case.baseline).seconds:6.2f} "
            f"{best(case.worker).seconds:9.2f} "
            f"{case.ratio:6.2f}x {goal:>8}  {ok}"
        )
    copies = [run for case in cases if case.name.startswith("copy") for run in case.worker]
    rss = max(r.peak_rss_mib or 0 for r in copies)
    children = max(r.child_peak_rss_mib or 0 for r in copies)
    print(
        f"{'memory':8} {'worker peak RSS in the copy merges':36} {'':>10} {rss:8.0f}M {'':>7} {'< 200M':>8}  "
        f"{'yes' if rss < 200 else 'NO'}"
    )
    where = f"inside {args.image}" if args.image else "on this host"
    print(
        f"(worker and FFmpeg {where}; best of {args.repeat} runs each, baselines and worker alternating; "
        f"the worker's FFmpeg children "
        f"peaked at {children:.0f} MiB; nginx answered {ranges} byte ranges)"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
