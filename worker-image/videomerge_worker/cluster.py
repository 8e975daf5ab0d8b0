"""``videomerge-worker run``: the Job's entrypoint. Reads the VideoMerge, merges, uploads, reports.

Outcomes: Completed (exit 0); a bad input → Failed with the error, exit 42 (the Job stops); anything
retryable → the phase stays Processing with a message, the termination message says why, exit 75 (the
Job retries; the operator writes Failed when it gives up). A VideoMerge that is already terminal, or gone,
is left alone (exit 0).
"""

import hashlib
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
from videomerge_worker.outcome import result_status
from videomerge_worker.pipeline import merge_in, workspace
from videomerge_worker.plan import OutputRequest
from videomerge_worker.progress import BackgroundSink, ProgressSink, overall_percent
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.storyboard import stored_picture_urls
from videomerge_worker.upload import Stored, find_stored, stored_metadata, upload

PATCH_INTERVAL_SECONDS = 1.0
TERMINAL_WRITE_ATTEMPTS = 5
# How long a terminal status write keeps trying through 5xx answers and broken connections: the merge's
# work is done by then, and running it again costs far more than waiting for the API server.
TERMINAL_WRITE_SECONDS = 120.0
RETRY_PAUSE_SECONDS, MAX_RETRY_PAUSE_SECONDS = 0.5, 8.0


class SupersededError(Exception):
    """The VideoMerge reached a terminal phase (or vanished) while this worker was on it."""


def is_transient(exc: BaseException) -> bool:
    """An API answer or failure that the same request may not meet again: 5xx, 429, transport errors."""
    import urllib3
    from kubernetes.client import ApiException

    if isinstance(exc, ApiException):
        return not exc.status or exc.status >= 500 or exc.status == 429
    return isinstance(exc, urllib3.exceptions.HTTPError | OSError)


class StatusWriter:
    """Writes the worker's part of one VideoMerge's status, never over a terminal phase.

    Progress goes through a thread of its own (``progress`` never waits for the API server); terminal
    writes retry through transient failures with backoff for up to ``terminal_write_seconds``."""

    def __init__(
        self,
        api: Any,
        namespace: str,
        name: str,
        echo: ProgressSink | None = None,
        *,
        terminal_write_seconds: float = TERMINAL_WRITE_SECONDS,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.name = name
        self.echo = echo
        self.terminal_write_seconds = terminal_write_seconds
        self.resource_version: str | None = None
        self._lock = threading.Lock()
        self._superseded: SupersededError | None = None
        self._background = BackgroundSink(self._publish, PATCH_INTERVAL_SECONDS)

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

    def _persistently(self, build: Any) -> None:
        """``_write_unless_terminal`` again after each transient failure, with backoff, until the time is up.
        A write whose answer was lost comes back as a conflict, then finds its own terminal phase."""
        deadline = time.monotonic() + self.terminal_write_seconds
        pause = RETRY_PAUSE_SECONDS
        while True:
            try:
                self._write_unless_terminal(build)
                return
            except Exception as exc:
                if not is_transient(exc) or time.monotonic() + pause > deadline:
                    raise
                print(f"videomerge-worker: status write failed, retrying: {exc}", file=sys.stderr)
            time.sleep(pause)
            pause = min(pause * 2, MAX_RETRY_PAUSE_SECONDS)

    def start(self, clips: int, start_time: datetime) -> None:
        with self._lock:
            self._persistently(
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
        """A progress sink that returns at once: the report is published by a thread of its own (at most
        one patch a second, a new stage always). A terminal phase found there stops the merge here."""
        if self._superseded is not None:
            raise self._superseded
        if self.echo is not None:
            self.echo(stage, percent, message)
        self._background(stage, percent, message)

    def _publish(self, stage: Stage, percent: int, message: str | None) -> None:
        """Best effort: an API hiccup does not fail the merge, a terminal phase does stop it."""
        from kubernetes.client import ApiException

        with self._lock:
            if self._superseded is not None:
                return
            try:
                self._write_unless_terminal(
                    lambda rv: patches.processing_patch(stage, percent, message, resource_version=rv),
                    attempts=2,
                )
            except SupersededError as exc:
                self._superseded = exc
            except (ApiException, WorkerError, OSError) as exc:
                print(f"videomerge-worker: status update skipped: {exc}", file=sys.stderr)

    def stop_progress(self) -> None:
        """Publishes what progress is left (bounded) and stops the thread: a terminal write comes next."""
        self._background.close()

    def complete(self, result: MergeResultStatus) -> None:
        self.stop_progress()
        with self._lock:
            self._persistently(lambda rv: patches.completed_patch(result, _now(), rv))

    def fail(self, error: WorkerError) -> None:
        self.stop_progress()
        with self._lock:
            self._persistently(lambda rv: patches.failed_patch(error.to_status(), _now(), rv))

    def retrying(self, error: WorkerError) -> None:
        self.stop_progress()
        with self._lock:
            self._write_unless_terminal(
                lambda rv: patches.retrying_patch(error.reason.value, error.message, rv), attempts=2
            )


def custom_objects_api() -> Any:
    """Through the contract's one client set-up: in-cluster, else the kubeconfig; every call with a timeout."""
    from kubernetes import client

    from videomerge_contract.kube_client import api_client

    return client.CustomObjectsApi(api_client())


def run_command(
    name: str,
    namespace: str,
    *,
    progress: ProgressSink | None = None,
    api: Any = None,
    terminal_write_seconds: float = TERMINAL_WRITE_SECONDS,
) -> int:
    settings = WorkerSettings()
    writer = StatusWriter(
        api or custom_objects_api(),
        namespace,
        name,
        echo=progress,
        terminal_write_seconds=terminal_write_seconds,
    )
    try:
        return _run(writer, settings)
    except SupersededError as exc:
        print(f"videomerge-worker: nothing to do: {exc}", file=sys.stderr)
        return EXIT_OK
    finally:
        writer.stop_progress()


def spec_digest(spec: VideoMergeSpec) -> str:
    """What identifies the merge's output: a later attempt with this digest may reuse the stored object."""
    canonical = json.dumps(spec.to_crd(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    digest = spec_digest(spec)
    try:
        writer.start(len(spec.video_urls), start_time)
        key = settings.object_key(writer.namespace, writer.name)
        stored = find_stored(key, settings, digest)
        if stored is not None:  # an earlier attempt merged and uploaded, then could not say so
            print("videomerge-worker: the merged file is already stored; finishing", file=sys.stderr)
            return _completed(writer, settings, stored, started, stored_picture_urls(key, settings))
        request = OutputRequest(quality=spec.quality, aspect_ratio=spec.aspect_ratio, fit=spec.fit)
        with workspace(settings) as work_dir:
            outcome = merge_in(work_dir, spec.video_urls, request, settings, writer.progress, pictures=True)
            facts = outcome.facts()
            assert outcome.pictures is not None  # asked for
            with outcome.pictures as pictures:  # made while the merge downloaded, or while it uploads
                uploaded = upload(
                    outcome.output,
                    key,
                    settings,
                    lambda f: writer.progress(Stage.UPLOADING, overall_percent(Stage.UPLOADING, f)),
                    metadata=stored_metadata(digest, facts),
                )
                picture_fields = pictures.store(key, settings)
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
    return _completed(writer, settings, Stored(uploaded, outcome.size_bytes, facts), started, picture_fields)


def _completed(
    writer: StatusWriter,
    settings: WorkerSettings,
    stored: Stored,
    started: float,
    pictures: dict[str, str] | None = None,
) -> int:
    result = result_status(
        {**stored.facts, **(pictures or {})},
        merged_url=stored.uploaded.url,
        size_bytes=stored.size_bytes,
        processing_time=time.monotonic() - started,
        bucket=stored.uploaded.bucket,
        object_key=stored.uploaded.key,
    )
    try:
        writer.complete(result)
    except SupersededError:
        raise
    except Exception as exc:  # the merged file is stored: the next attempt finds it and finishes
        error = WorkerError(ErrorReason.INTERNAL, f"cannot write the Completed status: {exc}")
        write_termination_message(settings, error)
        print(f"videomerge-worker: {error.one_line()}", file=sys.stderr, flush=True)
        return EXIT_RETRYABLE_FAILURE
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
