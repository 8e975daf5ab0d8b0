"""What a merge produced: the one result model of the worker, converted once into the contract's."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from videomerge_contract import MergeResultStatus, Strategy

if TYPE_CHECKING:
    from videomerge_worker.storyboard import PictureJob


@dataclass(frozen=True)
class MergeOutcome:
    output: Path
    duration_seconds: float
    clips_merged: int
    size_bytes: int
    width: int
    height: int
    strategy: Strategy
    clip_seconds: tuple[float, ...] = ()  # each clip's length as probed, in order: where each starts
    pictures: "PictureJob | None" = field(default=None, compare=False)  # when asked for: in the making

    def facts(self) -> dict[str, Any]:
        """What the result says of the merged file besides where it is and its size (JSON types): also
        what the stored object's metadata keeps, for an attempt that finds it."""
        return {
            "duration_seconds": self.duration_seconds,
            "clips_merged": self.clips_merged,
            "width": self.width,
            "height": self.height,
            "strategy": self.strategy.value,
        }


def result_status(
    facts: dict[str, Any],
    *,
    merged_url: str,
    size_bytes: int,
    processing_time: float,
    bucket: str | None = None,
    object_key: str | None = None,
) -> MergeResultStatus:
    """The contract's result (``status.result``; the CLI prints its REST form) from a merge's facts."""
    return MergeResultStatus(
        merged_url=merged_url,
        processing_time=round(processing_time, 3),
        size_bytes=size_bytes,
        bucket=bucket,
        object_key=object_key,
        **facts,
    )
