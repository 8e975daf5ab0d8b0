"""Phase rules: which transitions are legal, and how phases read as REST status words."""

from videomerge_contract.enums import Phase, RestStatus

_TERMINAL = frozenset({Phase.COMPLETED, Phase.FAILED})
# Pending and Queued are interchangeable (a slot can be lost and regained before the Job exists).
_RANK = {Phase.PENDING: 0, Phase.QUEUED: 0, Phase.PROCESSING: 1, Phase.COMPLETED: 2, Phase.FAILED: 2}
_REST = {
    Phase.PENDING: RestStatus.PENDING,
    Phase.QUEUED: RestStatus.PENDING,
    Phase.PROCESSING: RestStatus.PROCESSING,
    Phase.COMPLETED: RestStatus.COMPLETED,
    Phase.FAILED: RestStatus.FAILED,
}


def is_terminal(phase: Phase | str | None) -> bool:
    return phase is not None and Phase(phase) in _TERMINAL


def can_transition(current: Phase | str | None, new: Phase | str) -> bool:
    """A phase only moves forward, and a terminal phase never changes ("terminal wins")."""
    if current is None:
        return True
    current, new = Phase(current), Phase(new)
    if current in _TERMINAL:
        return current == new
    return _RANK[new] >= _RANK[current]


def rest_status(phase: Phase | str | None) -> RestStatus:
    """REST word for a phase; a resource without a status yet is ``pending``."""
    return RestStatus.PENDING if phase is None else _REST[Phase(phase)]
