"""The one exception type the worker raises for anything a user should hear about."""

import re
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Any

from videomerge_contract import ErrorReason, MergeError
from videomerge_contract.limits import Limits

# A local file path as FFmpeg and ffprobe print them ("file:/scratch/videomerge-…/clip-001.src: …"); not
# the path part of a URL (preceded by a host, ":" or "/").
_LOCAL_PATH = re.compile(r"(?<![\w:/.-])(?:file:)?/(?:[\w.+-]+/)*[\w.+-]+")


def without_local_paths(text: str) -> str:
    """``text`` without the worker's own file paths: a user's message names the clip, not our scratch disk."""
    text = re.sub(rf"{_LOCAL_PATH.pattern}:\s*", "", text)
    return _LOCAL_PATH.sub("the downloaded file", text)


class WorkerError(Exception):
    """A failed merge: a reason code, one human sentence, and the clip at fault when there is one.

    ``permanent`` says whether running the same merge again cannot help (the input is at fault); it
    defaults to the reason's own rule and is set explicitly where one reason covers both cases (a 404
    download is permanent, a 503 is not).
    """

    def __init__(
        self,
        reason: ErrorReason,
        message: str,
        *,
        clip_index: int | None = None,
        clip_url: str | None = None,
        permanent: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.clip_index = clip_index
        self.clip_url = clip_url
        self.permanent = (not reason.retryable) if permanent is None else permanent

    @classmethod
    def for_clip(
        cls,
        reason: ErrorReason,
        index: int,
        url: str,
        problem: str,
        *,
        permanent: bool | None = None,
    ) -> "WorkerError":
        """An error about clip ``index`` (0-based); the message counts from 1, as people do."""
        return cls(
            reason,
            f"clip {index + 1} ({url}): {problem}",
            clip_index=index,
            clip_url=url,
            permanent=permanent,
        )

    def to_status(self) -> MergeError:
        return MergeError(
            reason=self.reason,
            message=self.message[: Limits.MAX_MESSAGE_LENGTH],
            clip_index=self.clip_index,
            clip_url=self.clip_url,
        )

    def one_line(self) -> str:
        return f"{self.reason.value}: {' '.join(self.message.split())}"


class TerminatedError(Exception):
    """SIGTERM (the pod is being deleted): unwind so that temporary files are removed."""


class DownloadCancelledError(Exception):
    """Another clip failed first (or the merge changed course): this download stops early."""


def first_clip_error(futures: "Iterable[Future[Any]]", fallback: str) -> BaseException:
    """The failure to report from finished downloads: the lowest clip's, ignoring the downloads that only
    stopped because another failed; ``fallback`` when nothing but cancellations is left."""
    errors = [e for f in futures if f.done() and not f.cancelled() and (e := f.exception()) is not None]
    real = [e for e in errors if not isinstance(e, DownloadCancelledError)]
    clip_errors = [e for e in real if isinstance(e, WorkerError)]
    if clip_errors:
        return min(clip_errors, key=lambda e: -1 if e.clip_index is None else e.clip_index)
    return real[0] if real else WorkerError(ErrorReason.INTERNAL, fallback)
