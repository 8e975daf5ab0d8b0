"""One clip of a merge, as it travels from its URL to the merge: position, URL, local file, probe."""

from dataclasses import dataclass, replace
from pathlib import Path

from videomerge_contract import ErrorReason
from videomerge_worker.errors import WorkerError
from videomerge_worker.probe import ClipInfo


@dataclass(frozen=True)
class Clip:
    index: int  # 0-based, as status.error.clipIndex counts; messages count from 1 (``number``)
    url: str
    path: Path | None = None  # its local file (or sparse copy) once there is one
    probe: ClipInfo | None = None  # once probed

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def info(self) -> ClipInfo:
        """Its probe; only for clips that have one."""
        if self.probe is None:
            raise ValueError(f"clip {self.number} is not probed yet")
        return self.probe

    def with_probe(self, probe: ClipInfo) -> "Clip":
        return replace(self, path=probe.path, probe=probe)

    def error(self, reason: ErrorReason, problem: str, *, permanent: bool | None = None) -> WorkerError:
        return WorkerError.for_clip(reason, self.index, self.url, problem, permanent=permanent)


def clips_of(urls: list[str] | tuple[str, ...]) -> list[Clip]:
    return [Clip(index, url) for index, url in enumerate(urls)]
