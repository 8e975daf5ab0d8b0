"""Kubernetes Events on a VideoMerge, what `kubectl describe videomerge` shows a person."""

from datetime import datetime
from typing import Any, Final

from videomerge_contract.resource import API_VERSION, GROUP, KIND
from videomerge_operator.naming import MANAGER
from videomerge_operator.transitions import EventSpec
from videomerge_operator.views import MergeView

REPORTING_COMPONENT: Final = f"{GROUP}/operator"
MAX_EVENT_MESSAGE: Final = 1024


def event_body(merge: MergeView, event: EventSpec, now: datetime, instance: str) -> dict[str, Any]:
    stamp = now.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    # eventTime (microseconds) orders events that land within one second: JobCreated, then Failed
    micro = now.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {
        "metadata": {"generateName": f"{merge.name[:200]}.", "namespace": merge.namespace},
        "involvedObject": {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": merge.name,
            "namespace": merge.namespace,
            "uid": merge.uid,
        },
        "type": event.type,
        "reason": event.reason,
        "action": event.reason,
        "message": event.message[:MAX_EVENT_MESSAGE],
        "source": {"component": MANAGER},
        "reportingComponent": REPORTING_COMPONENT,
        "reportingInstance": instance[:128],
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "eventTime": micro,
        "count": 1,
    }
