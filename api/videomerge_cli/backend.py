"""The operations every way into VideoMerge offers the CLI."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from videomerge_cli.model import MergeOutcome, MergeState


@dataclass(frozen=True)
class MergeOptions:
    video_urls: list[str]
    quality: str | None = None
    aspect_ratio: str | None = None
    fit: str | None = None

    def request_fields(self) -> dict[str, Any]:
        """The REST request's fields (snake_case), leaving out what was not asked for: the service's default."""
        fields: dict[str, Any] = {"video_urls": self.video_urls}
        for key, value in (("quality", self.quality), ("aspect_ratio", self.aspect_ratio), ("fit", self.fit)):
            if value is not None:
                fields[key] = value
        return fields


class Backend(Protocol):
    """Where merges live: the REST API (``--api``) or the cluster itself (``--kube``)."""

    where: str  # for messages: the API's URL or the cluster's namespace

    def create(self, options: MergeOptions) -> MergeState: ...

    def status(self, task_id: str) -> MergeState: ...

    def result(self, task_id: str) -> MergeOutcome | None:
        """The outcome of a finished merge; None while it runs."""
        ...

    def list(self, status: str | None, limit: int) -> list[MergeState]: ...

    def cancel(self, task_id: str) -> str:
        """Cancels an unfinished merge (it stops and ends failed, reason Cancelled; its record stays) or
        removes a finished one; returns what the service said it did."""
        ...

    def follow(self, task_id: str) -> Iterator[MergeState]:
        """Each new state of the merge until it is finished (the last one yielded is terminal)."""
        ...

    def close(self) -> None: ...
