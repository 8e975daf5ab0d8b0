"""The VideoMerge contract: the one definition that the API, the operator and the worker share.

Everything about the ``VideoMerge`` custom resource lives here: its group/version/kind, the spec and
status models, the phases and their transition rules, and the mapping between the REST body (snake_case,
the seed documents' field names) and the CRD spec (camelCase). ``crds/videomerge.yaml`` is checked
against these models by the unit tests, so the two cannot drift.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videomerge_contract.cancellation import (
        CANCEL_PATCH,
        CANCELLED_MESSAGE,
        DeleteAction,
        cancel_requested,
        delete_action,
        delete_message,
        is_cancelled,
    )
    from videomerge_contract.enums import (
        AspectRatio,
        ErrorReason,
        Fit,
        NotificationState,
        Phase,
        Quality,
        RestStatus,
        Stage,
        Strategy,
        WebhookEvent,
    )
    from videomerge_contract.limits import Limits
    from videomerge_contract.models import (
        Condition,
        MergeError,
        MergeResultStatus,
        NotificationStatus,
        VideoMergeSpec,
        VideoMergeStatus,
    )
    from videomerge_contract.phases import can_transition, is_terminal, rest_status
    from videomerge_contract.resource import (
        API_VERSION,
        GROUP,
        KIND,
        PLURAL,
        SHORT_NAMES,
        SINGULAR,
        VERSION,
    )
    from videomerge_contract.rest import (
        MergeFailure,
        MergeRequest,
        MergeResult,
        result_from_status,
        webhook_body,
        webhook_event,
    )

_SOURCES: dict[str, str] = {
    "CANCEL_PATCH": "videomerge_contract.cancellation",
    "CANCELLED_MESSAGE": "videomerge_contract.cancellation",
    "DeleteAction": "videomerge_contract.cancellation",
    "cancel_requested": "videomerge_contract.cancellation",
    "delete_action": "videomerge_contract.cancellation",
    "delete_message": "videomerge_contract.cancellation",
    "is_cancelled": "videomerge_contract.cancellation",
    "AspectRatio": "videomerge_contract.enums",
    "ErrorReason": "videomerge_contract.enums",
    "Fit": "videomerge_contract.enums",
    "NotificationState": "videomerge_contract.enums",
    "Phase": "videomerge_contract.enums",
    "Quality": "videomerge_contract.enums",
    "RestStatus": "videomerge_contract.enums",
    "Stage": "videomerge_contract.enums",
    "Strategy": "videomerge_contract.enums",
    "WebhookEvent": "videomerge_contract.enums",
    "Limits": "videomerge_contract.limits",
    "Condition": "videomerge_contract.models",
    "MergeError": "videomerge_contract.models",
    "MergeResultStatus": "videomerge_contract.models",
    "NotificationStatus": "videomerge_contract.models",
    "VideoMergeSpec": "videomerge_contract.models",
    "VideoMergeStatus": "videomerge_contract.models",
    "can_transition": "videomerge_contract.phases",
    "is_terminal": "videomerge_contract.phases",
    "rest_status": "videomerge_contract.phases",
    "API_VERSION": "videomerge_contract.resource",
    "GROUP": "videomerge_contract.resource",
    "KIND": "videomerge_contract.resource",
    "PLURAL": "videomerge_contract.resource",
    "SHORT_NAMES": "videomerge_contract.resource",
    "SINGULAR": "videomerge_contract.resource",
    "VERSION": "videomerge_contract.resource",
    "MergeFailure": "videomerge_contract.rest",
    "MergeRequest": "videomerge_contract.rest",
    "MergeResult": "videomerge_contract.rest",
    "result_from_status": "videomerge_contract.rest",
    "webhook_body": "videomerge_contract.rest",
    "webhook_event": "videomerge_contract.rest",
}


def __getattr__(name: str) -> Any:
    """A name loads with its module on first use: the worker's start needs the enums, not every model."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


__all__ = [
    "API_VERSION",
    "CANCELLED_MESSAGE",
    "CANCEL_PATCH",
    "GROUP",
    "KIND",
    "PLURAL",
    "SHORT_NAMES",
    "SINGULAR",
    "VERSION",
    "AspectRatio",
    "Condition",
    "DeleteAction",
    "ErrorReason",
    "Fit",
    "Limits",
    "MergeError",
    "MergeFailure",
    "MergeRequest",
    "MergeResult",
    "MergeResultStatus",
    "NotificationState",
    "NotificationStatus",
    "Phase",
    "Quality",
    "RestStatus",
    "Stage",
    "Strategy",
    "VideoMergeSpec",
    "VideoMergeStatus",
    "WebhookEvent",
    "can_transition",
    "cancel_requested",
    "delete_action",
    "delete_message",
    "is_cancelled",
    "is_terminal",
    "rest_status",
    "result_from_status",
    "webhook_body",
    "webhook_event",
]
