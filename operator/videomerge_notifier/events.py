"""Events on a VideoMerge for each webhook attempt that failed (and the one that succeeded)."""

from datetime import datetime
from typing import Any, Final

from videomerge_contract.resource import API_VERSION, GROUP, KIND

COMPONENT: Final = "videomerge-notifier"
REPORTING_COMPONENT: Final = f"{GROUP}/notifier"
MAX_MESSAGE: Final = 1024


def event_body(
    namespace: str, name: str, uid: str, type_: str, reason: str, message: str, now: datetime, instance: str
) -> dict[str, Any]:
    stamp = now.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {
        "metadata": {"generateName": f"{name[:200]}.", "namespace": namespace},
        "involvedObject": {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": name,
            "namespace": namespace,
            "uid": uid,
        },
        "type": type_,
        "reason": reason,
        "action": "Notify",
        "message": message[:MAX_MESSAGE],
        "source": {"component": COMPONENT},
        "reportingComponent": REPORTING_COMPONENT,
        "reportingInstance": instance[:128],
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }
