"""Cancelling a merge, the Kubernetes way (Tekton's ``spec.status: Cancelled``, Argo's ``spec.shutdown``).

Whoever wants a merge stopped sets ``spec.cancel: true`` (a JSON merge patch of the object: the API's
DELETE on an unfinished merge, ``videomerge cancel``, or ``kubectl patch``). The operator then deletes the
merge's Job (a queued merge never gets one) and writes the terminal status: phase ``Failed``, error reason
``Cancelled``, message ``CANCELLED_MESSAGE``. The record stays, so the completion webhook
(``merge.cancelled``) is still sent; it goes with retention or a DELETE of the finished merge.

What a DELETE does is decided here, once, for the API and the CLI's ``--kube`` way alike.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from videomerge_contract.enums import ErrorReason, Phase
from videomerge_contract.phases import is_terminal, rest_status

CANCEL_FIELD: Final = "cancel"
CANCEL_PATCH: Final[Mapping[str, Any]] = {"spec": {CANCEL_FIELD: True}}
CANCELLED_MESSAGE: Final = "cancelled by request"


def cancel_requested(spec: Mapping[str, Any] | None) -> bool:
    """Whether the (raw, camelCase) spec asks for the merge to be stopped."""
    return bool((spec or {}).get(CANCEL_FIELD))


def is_cancelled(raw_status: Mapping[str, Any] | None) -> bool:
    """Whether the (raw) status is that of a merge that ended because it was cancelled."""
    status = raw_status or {}
    return (
        status.get("phase") == Phase.FAILED.value
        and (status.get("error") or {}).get("reason") == ErrorReason.CANCELLED.value
    )


class DeleteAction(StrEnum):
    """What a DELETE of a merge does, from the merge as it is."""

    CANCEL = "cancel"  # unfinished: set spec.cancel; the record stays
    ALREADY_CANCELLING = "already-cancelling"  # spec.cancel is set, not finished yet: nothing more to do
    REMOVE = "remove"  # finished (cancelled ones included): delete the record


def delete_action(phase: Phase | str | None, cancelling: bool) -> DeleteAction:
    if is_terminal(phase):
        return DeleteAction.REMOVE
    return DeleteAction.ALREADY_CANCELLING if cancelling else DeleteAction.CANCEL


def delete_message(action: DeleteAction, phase: Phase | str | None) -> str:
    """What to tell the person who asked (the API's DELETE answer, ``videomerge cancel``)."""
    if action is DeleteAction.REMOVE:
        word = rest_status(phase)
        return f"Merge removed: it had already {word.value}, so nothing was stopped; its record is deleted"
    if action is DeleteAction.ALREADY_CANCELLING:
        return "Merge is already being cancelled; its record stays (DELETE it again once it has failed)"
    return (
        "Merge is being cancelled: its Job is stopped and it ends failed (reason Cancelled); "
        "its record stays until retention or a DELETE once it has failed"
    )
