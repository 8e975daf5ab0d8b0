"""``videomerge-worker``: ``merge`` (local files, no cluster, no S3) and ``run`` (the Job's entrypoint).

Exit codes: 0 success; 42 (EXIT_PERMANENT_FAILURE) the input is at fault and retrying cannot help; 75
(EXIT_RETRYABLE_FAILURE) anything that another attempt may survive; 2 bad command line. A failure prints
one line on stderr: ``videomerge-worker: <Reason>: <message>``. ``merge`` prints one JSON line on stdout
either way: the result, or ``{"success": false, "reason", "error", …}`` (the REST API's shapes).
"""

import argparse
import json
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from videomerge_contract import AspectRatio, ErrorReason, Fit, MergeResult, Quality, Stage
from videomerge_contract import worker_env as env
from videomerge_contract.resource import EXIT_OK, EXIT_PERMANENT_FAILURE, EXIT_RETRYABLE_FAILURE
from videomerge_worker.errors import TerminatedError, WorkerError
from videomerge_worker.plan import OutputRequest
from videomerge_worker.progress import ProgressSink, discard_progress
from videomerge_worker.storyboard import POSTER_NAME, STORYBOARD_NAME

PROG = "videomerge-worker"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Merge video clips with FFmpeg.")
    commands = parser.add_subparsers(dest="command", required=True)

    merge = commands.add_parser("merge", help="merge clip URLs into a local MP4 (no cluster, no S3)")
    merge.add_argument("urls", nargs="+", metavar="URL", help="http(s) URLs of the clips, in order")
    merge.add_argument("--output", "-o", required=True, type=Path, help="where to write the merged MP4")
    merge.add_argument("--quality", type=Quality, choices=list(Quality), default=Quality.HIGH)
    merge.add_argument(
        "--aspect-ratio", type=AspectRatio, choices=list(AspectRatio), default=AspectRatio.R16_9
    )
    merge.add_argument("--fit", type=Fit, choices=list(Fit), default=Fit.PAD)
    merge.add_argument(
        "--pictures",
        type=Path,
        metavar="DIR",
        help=f"also write the merge's poster and storyboard into DIR ({POSTER_NAME}, {STORYBOARD_NAME})",
    )
    merge.add_argument("--verbose", "-v", action="store_true", help="progress lines on stderr")

    run = commands.add_parser("run", help="merge the VideoMerge NAME in NAMESPACE (the Job's entrypoint)")
    run.add_argument("--name", default=os.environ.get(env.MERGE_NAME), help=f"default: ${env.MERGE_NAME}")
    run.add_argument(
        "--namespace", default=os.environ.get(env.MERGE_NAMESPACE), help=f"default: ${env.MERGE_NAMESPACE}"
    )
    run.add_argument("--verbose", "-v", action="store_true", help="progress lines on stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        if args.command == "merge":
            return merge_command(args)
        if not args.name or not args.namespace:
            return _fail(
                f"--name and --namespace (or ${env.MERGE_NAME}, ${env.MERGE_NAMESPACE}) are required", 2
            )
        from videomerge_worker.cluster import run_command  # kubernetes and boto3 load only here

        return run_command(args.name, args.namespace, progress=_stderr_progress if args.verbose else None)
    except WorkerError as exc:
        if args.command == "merge":
            _print_failure(exc)
        return _fail(exc.one_line(), EXIT_PERMANENT_FAILURE if exc.permanent else EXIT_RETRYABLE_FAILURE)
    except (KeyboardInterrupt, TerminatedError):
        return _fail("interrupted", EXIT_RETRYABLE_FAILURE)
    except Exception as exc:
        if getattr(args, "verbose", False):
            traceback.print_exc()
        return _fail(f"{ErrorReason.INTERNAL.value}: {type(exc).__name__}: {exc}", EXIT_RETRYABLE_FAILURE)


def merge_command(args: argparse.Namespace) -> int:
    from videomerge_worker.outcome import result_status
    from videomerge_worker.pipeline import merge_in, workspace
    from videomerge_worker.settings import WorkerSettings

    started = time.monotonic()
    settings = WorkerSettings()
    request = OutputRequest(quality=args.quality, aspect_ratio=args.aspect_ratio, fit=args.fit)
    progress: ProgressSink = _stderr_progress if args.verbose else discard_progress
    output: Path = args.output.resolve()
    if output.is_dir():
        return _fail(f"{ErrorReason.INVALID_INPUT.value}: --output {output} is a directory", 2)
    pictures_dir: Path | None = args.pictures.resolve() if args.pictures else None
    picture_fields: dict[str, str] = {}
    with workspace(settings) as work_dir:
        outcome = merge_in(work_dir, args.urls, request, settings, progress, pictures=bool(pictures_dir))
        made = outcome.pictures.result() if outcome.pictures is not None else None  # may read the merge
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(outcome.output, output)
        if pictures_dir is not None and made is not None:
            pictures_dir.mkdir(parents=True, exist_ok=True)
            poster, storyboard = pictures_dir / POSTER_NAME, pictures_dir / STORYBOARD_NAME
            shutil.move(made.poster, poster)
            shutil.move(made.storyboard, storyboard)
            picture_fields = {"poster_url": str(poster), "storyboard_url": str(storyboard)}
    result = MergeResult.from_status(
        result_status(
            outcome.facts() | picture_fields,
            merged_url=str(output),
            size_bytes=outcome.size_bytes,
            processing_time=time.monotonic() - started,
        )
    )
    print(json.dumps(result.model_dump(mode="json")), flush=True)
    return EXIT_OK


def _print_failure(exc: WorkerError) -> None:
    """The last stdout line is JSON on failure too: the REST API's failure shape."""
    failure = {"success": False, "status": "failed", "reason": exc.reason.value, "error": exc.message}
    failure |= {"clip_index": exc.clip_index, "clip_url": exc.clip_url}
    print(json.dumps(failure), flush=True)


def _stderr_progress(stage: Stage, percent: int, message: str | None = None) -> None:
    print(
        f"{PROG}: [{percent:3d}%] {stage.value}{': ' + message if message else ''}",
        file=sys.stderr,
        flush=True,
    )


def _fail(line: str, code: int) -> int:
    print(f"{PROG}: {' '.join(line.split())}", file=sys.stderr, flush=True)
    return code


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise TerminatedError


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
