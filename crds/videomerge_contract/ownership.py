"""Who writes which status field: the worker, the operator, or both (then "terminal wins" decides).

Both write the status subresource with JSON merge patches conditional on a resourceVersion. The split:

- the worker reports the merge itself: ``startTime``, ``stage``/``progress`` while it runs, and the
  ``result`` (only it has one);
- the operator reports the merge's workload: ``jobName``, ``attempts``, ``queuePosition``, the
  ``conditions`` (with ``observedGeneration``), the Queued/Pending phases before a worker runs, and
  ``duration`` (the result's length for people, once the worker wrote it);
- both may write ``phase`` (each only the phases in ``PHASES``), ``message``, ``clips``, ``error`` and
  ``completionTime``: the worker when it fails a merge, the operator when the worker could not (OOMKilled,
  deadline, lost Job). A terminal phase is never overwritten (``phases.can_transition``);
- the notifier reports the completion webhook's delivery, ``notification``, and nothing else (its patches
  are not conditional: no one else writes that field).

``check_status_patch`` enforces this where each writes (``videomerge_worker.status``,
``videomerge_operator.reconcile``, ``videomerge_notifier.notifier``): a patch outside its writer's fields is a bug, refused before it is sent.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from videomerge_contract.enums import Phase


class Writer(StrEnum):
    WORKER = "worker"
    OPERATOR = "operator"
    NOTIFIER = "notifier"


SHARED_FIELDS: Final = frozenset({"phase", "message", "clips", "error", "completionTime"})
FIELDS: Final[Mapping[Writer, frozenset[str]]] = {
    Writer.WORKER: SHARED_FIELDS | {"stage", "progress", "startTime", "result"},
    Writer.OPERATOR: SHARED_FIELDS
    | {
        "stage",
        "progress",
        "jobName",
        "attempts",
        "queuePosition",
        "conditions",
        "observedGeneration",
        "duration",
    },
    Writer.NOTIFIER: frozenset({"notification"}),
}
PHASES: Final[Mapping[Writer, frozenset[Phase]]] = {
    Writer.WORKER: frozenset({Phase.PROCESSING, Phase.COMPLETED, Phase.FAILED}),
    Writer.OPERATOR: frozenset({Phase.PENDING, Phase.QUEUED, Phase.FAILED}),
    Writer.NOTIFIER: frozenset(),
}


class StatusOwnershipError(ValueError):
    """A status patch names a field, or sets a phase, that its writer does not own."""


def check_status_patch(writer: Writer, status_patch: Mapping[str, Any]) -> None:
    """Raises ``StatusOwnershipError`` unless ``writer`` owns every field (and the phase) in the patch."""
    foreign = set(status_patch) - FIELDS[writer]
    if foreign:
        raise StatusOwnershipError(f"the {writer} may not write status fields {sorted(foreign)}")
    phase = status_patch.get("phase")
    if phase is not None and Phase(phase) not in PHASES[writer]:
        raise StatusOwnershipError(f"the {writer} may not set phase {phase}")
