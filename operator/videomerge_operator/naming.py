"""Names and labels of the objects the operator creates."""

import hashlib
import re
from typing import Final

from videomerge_contract.resource import (
    APP_NAME,
    GROUP,
    LABEL_COMPONENT,
    LABEL_INSTANCE,
    LABEL_MANAGED_BY,
    LABEL_MERGE,
    LABEL_NAME,
    LABEL_PART_OF,
)

MAX_NAME: Final = 63  # a Job's name ends up in its pods' job-name label: a DNS-1123 label
HASH_LENGTH: Final = 8
MANAGER: Final = "videomerge-operator"
WORKER_COMPONENT: Final = "worker"
CONTAINER_NAME: Final = "worker"
# Held while the merged file is deleted from S3 (optional: settings.delete_s3_objects).
FINALIZER: Final = f"{GROUP}/delete-merged-object"
# Server-side filter of the Jobs and pods the operator watches.
WORKLOAD_SELECTOR: Final = f"{LABEL_MANAGED_BY}={MANAGER},{LABEL_COMPONENT}={WORKER_COMPONENT}"

_NOT_LABEL_CHARS = re.compile(r"[^a-z0-9-]")


def job_name_for(merge_name: str) -> str:
    """The one Job name of a VideoMerge: the merge's own name, so ``vm-3f2a…`` runs as Job ``vm-3f2a…`` and
    pods ``vm-3f2a…-xxxxx``. Stable across restarts; only VideoMerges own Jobs of these names.

    VideoMerge names are DNS subdomains (up to 253 characters, dots allowed). When the name is not a valid
    DNS-1123 label, it is shortened and suffixed with a hash of the full name, so two names never share a Job.
    """
    if len(merge_name) <= MAX_NAME and not _NOT_LABEL_CHARS.search(merge_name) and merge_name[-1].isalnum():
        return merge_name
    digest = hashlib.sha256(merge_name.encode()).hexdigest()[:HASH_LENGTH]
    stem = _NOT_LABEL_CHARS.sub("-", merge_name.lower())[: MAX_NAME - HASH_LENGTH - 1].strip("-")
    return f"{stem}-{digest}" if stem and stem[0].isalnum() else f"vm-{digest}"


def merge_label_value(merge_name: str) -> str:
    """Value of ``videomerge.io/merge`` (a label value: ≤63 characters, so long names are hashed too)."""
    if len(merge_name) <= MAX_NAME:
        return merge_name
    digest = hashlib.sha256(merge_name.encode()).hexdigest()[:HASH_LENGTH]
    return f"{merge_name[: MAX_NAME - HASH_LENGTH - 1].rstrip('-.')}-{digest}"


def worker_labels(merge_name: str, instance: str) -> dict[str, str]:
    return {
        LABEL_NAME: APP_NAME,
        LABEL_INSTANCE: instance,
        LABEL_COMPONENT: WORKER_COMPONENT,
        LABEL_PART_OF: APP_NAME,
        LABEL_MANAGED_BY: MANAGER,
        LABEL_MERGE: merge_label_value(merge_name),
    }
