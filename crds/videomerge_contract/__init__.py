"""The VideoMerge contract: the one definition that the API, the operator and the worker share.

Everything about the ``VideoMerge`` custom resource lives here: its group/version/kind, the spec and
status models, the phases and their transition rules, and the mapping between the REST body (snake_case,
the seed documents' field names) and the CRD spec (camelCase). ``crds/videomerge.yaml`` is checked
against these models by the unit tests, so the two cannot drift.
"""

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
