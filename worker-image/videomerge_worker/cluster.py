"""``videomerge-worker run``: the Job's entrypoint. Reads the VideoMerge, merges, uploads, reports.

Outcomes: Completed (exit 0); a bad input → Failed with the error, exit 42 (the Job stops); anything
retryable → the phase stays Processing with a message, the termination message says why, exit 75 (the
Job retries; the operator writes Failed when it gives up). A VideoMerge that is already terminal, or gone,
is left alone (exit 0).
"""

import json
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from videomerge_contract import (
    ErrorReason,
    MergeResultStatus,
    Stage,
    VideoMergeSpec,
    is_terminal,
)
from videomerge_contract.resource import (
    EXIT_OK,
    EXIT_PERMANENT_FAILURE,
    EXIT_RETRYABLE_FAILURE,
    GROUP,
    PLURAL,
    VERSION,
)
from videomerge_worker import status as patches
from videomerge_worker.errors import TerminatedError, WorkerError
from videomerge_worker.pipeline import merge_in, workspace
from videomerge_worker.plan import OutputRequest
from videomerge_worker.progress import ProgressSink, Throttle, overall_percent
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.upload import upload

PATCH_INTERVAL_SECONDS = 1.0
TERMINAL_WRITE_ATTEMPTS = 5


class SupersededError(Exception):
    """The VideoMerge reached a terminal phase (or vanished) while this worker was on it."""


class StatusWriter:
    """Writes the worker's part of one VideoMerge's status, never over a terminal phase."""

    def __init__(self, api: Any, namespace: str, name: str, echo: ProgressSink | None = None) -> None:
        self.api = api
        self.namespace = namespace
        self.name = name
        self.echo = echo
        self.resource_version: str | None = None
        self._throttle = Throttle(PATCH_INTERVAL_SECONDS)
        self._stage: Stage | None = None
        self._lock = threading.Lock()

    def read(self) -> dict[str, Any]:
        from kubernetes.client import ApiException

        try:
            obj: dict[str, Any] = self.api.get_namespaced_custom_object_status(
                GROUP, VERSION, self.namespace, PLURAL, self.name
            )
        except ApiException as exc:
            if exc.status == 404:
                raise SupersededError(f"VideoMerge {self.namespace}/{self.name} no longer exists") from None
            raise
        self.resource_version = obj["metadata"]["resourceVersion"]
        return obj

    def _send(self, patch: dict[str, Any]) -> None:
        obj = self.api.patch_namespaced_custom_object_status(
            GROUP, VERSION, self.namespace, PLURAL, self.name, patch
        )
        self.resource_version = obj["metadata"]["resourceVersion"]

    def _write_unless_terminal(self, build: Any, attempts: int = TERMINAL_WRITE_ATTEMPTS) -> None:
        """Patches with the last seen resourceVersion; on a conflict re-reads and gives up to a terminal phase."""
        from kubernetes.client import ApiException

        for _ in range(attempts):
            try:
                self._send(build(self.resource_version))
                return
            except ApiException as exc:
                if exc.status not in (409, 404):
                    raise
            current = self.read()
            if is_terminal((current.get("status") or {}).get("phase")):
                raise SupersededError(f"VideoMerge is already {current['status']['phase']}")
        raise WorkerError(ErrorReason.INTERNAL, f"status of {self.name} kept changing under the worker")

    def start(self, clips: int, start_time: datetime) -> None:
        with self._lock:
            self._stage = Stage.STARTING
            self._write_unless_terminal(
                lambda rv: patches.processing_patch(
                    Stage.STARTING,
                    0,
                    "Worker started",
                    resource_version=rv,
                    start_time=start_time,
                    clips=clips,
                )
            )

    def progress(self, stage: Stage, percent: int, message: str | None = None) -> None:
        """A progress sink: at most one patch a second, except that a new stage is always written.
        Progress is best effort: an API hiccup does not fail the merge, a terminal phase does stop it."""
        from kubernetes.client import ApiException

        if self.echo is not None:
            self.echo(stage, percent, message)
        with self._lock:
            if not self._throttle.ready(force=stage != self._stage):
                return
            self._stage = stage
            try:
                self._write_unless_terminal(
                    lambda rv: patches.processing_patch(stage, percent, message, resource_version=rv),
                    attempts=2,
                )
            except (ApiException, WorkerError, OSError) as exc:
                print(f"videomerge-worker: status update skipped: {exc}", file=sys.stderr)

    def complete(self, result: MergeResultStatus) -> None:
        with self._lock:
            self._write_unless_terminal(lambda rv: patches.completed_patch(result, _now(), rv))

    def fail(self, error: WorkerError) -> None:
        with self._lock:
            self._write_unless_terminal(lambda rv: patches.failed_patch(error.to_status(), _now(), rv))

    def retrying(self, error: WorkerError) -> None:
        with self._lock:
            self._write_unless_terminal(
                lambda rv: patches.retrying_patch(error.reason.value, error.message, rv), attempts=2
            )


def custom_objects_api() -> Any:
    """Through the contract's one client set-up: in-cluster, else the kubeconfig; every call with a timeout."""
    from kubernetes import client

    from videomerge_contract.kube_client import api_client

    return client.CustomObjectsApi(api_client())


def run_command(name: str, namespace: str, *, progress: ProgressSink | None = None, api: Any = None) -> int:
    settings = WorkerSettings()
    writer = StatusWriter(api or custom_objects_api(), namespace, name, echo=progress)
    try:
        return _run(writer, settings)
    except SupersededError as exc:
        print(f"videomerge-worker: nothing to do: {exc}", file=sys.stderr)
        return EXIT_OK


def _run(writer: StatusWriter, settings: WorkerSettings) -> int:
    started = time.monotonic()
    obj = writer.read()
    current = obj.get("status") or {}
    if is_terminal(current.get("phase")):
        raise SupersededError(f"VideoMerge is already {current['phase']}")
    try:
        spec = VideoMergeSpec.from_crd(obj.get("spec"))
    except ValueError as exc:
        error = WorkerError(ErrorReason.INVALID_INPUT, f"the VideoMerge spec is invalid: {exc}")
        return _failed(writer, settings, error)
    start_time = _parse_time(current.get("startTime")) or _now()
    try:
        writer.start(len(spec.video_urls), start_time)
        request = OutputRequest(quality=spec.quality, aspect_ratio=spec.aspect_ratio, fit=spec.fit)
        key = settings.object_key(writer.namespace, writer.name)
        with workspace(settings) as work_dir:
            outcome = merge_in(work_dir, spec.video_urls, request, settings, writer.progress)
            uploaded = upload(
                outcome.output,
                key,
                settings,
                lambda f: writer.progress(Stage.UPLOADING, overall_percent(Stage.UPLOADING, f)),
            )
    except WorkerError as exc:
        return _failed(writer, settings, exc)
    except SupersededError:
        raise
    except TerminatedError:
        return _failed(
            writer, settings, WorkerError(ErrorReason.INTERNAL, "the worker was stopped (SIGTERM)")
        )
    except Exception as exc:  # a bug or an unforeseen environment problem: worth another attempt
        return _failed(writer, settings, WorkerError(ErrorReason.INTERNAL, f"{type(exc).__name__}: {exc}"))
    result = MergeResultStatus(
        merged_url=uploaded.url,
        duration_seconds=outcome.duration_seconds,
        processing_time=round(time.monotonic() - started, 3),
        clips_merged=outcome.clips_merged,
        size_bytes=outcome.size_bytes,
        width=outcome.width,
        height=outcome.height,
        strategy=outcome.strategy,
        bucket=uploaded.bucket,
        object_key=uploaded.key,
    )
    writer.complete(result)
    print(json.dumps({"success": True, **result.model_dump(mode="json", exclude_none=True)}), flush=True)
    return EXIT_OK


def _failed(writer: StatusWriter, settings: WorkerSettings, error: WorkerError) -> int:
    """Reports ``error`` (terminal only when permanent), writes the termination message, picks the exit."""
    write_termination_message(settings, error)
    print(f"videomerge-worker: {error.one_line()}", file=sys.stderr, flush=True)
    try:
        (writer.fail if error.permanent else writer.retrying)(error)
    except SupersededError:
        raise
    except Exception as exc:  # the API itself may be what failed; the exit code still tells the Job
        print(f"videomerge-worker: status update failed: {exc}", file=sys.stderr)
    return EXIT_PERMANENT_FAILURE if error.permanent else EXIT_RETRYABLE_FAILURE


def write_termination_message(settings: WorkerSettings, error: WorkerError) -> None:
    try:
        settings.termination_message_path.write_text(
            patches.termination_message(error.reason.value, error.message)
        )
    except OSError as exc:
        print(f"videomerge-worker: cannot write {settings.termination_message_path}: {exc}", file=sys.stderr)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _now() -> datetime:
    return datetime.now(UTC)
