"""Building VideoMerge objects for a request, naming them, and reading the bits of them the API needs.

Idempotency: a request with an ``Idempotency-Key`` gets a name derived from the client and the key, so two
replicas racing on the same key meet at the API server (AlreadyExistsError) instead of creating two merges,
and two clients using the same key never meet. The key itself is never stored: only that SHA-256, next to
the SHA-256 of the canonical spec.

Ownership: every merge the API creates carries its client's name as a label (to select by) and an
annotation (to read); a merge without one (made with kubectl) belongs to admins only.
"""

import hashlib
import json
import re
import uuid
from typing import Any

from videomerge_api.store import VideoMergeObject
from videomerge_contract import API_VERSION, KIND
from videomerge_contract.resource import (
    ANNOTATION_IDEMPOTENCY_KEY,
    ANNOTATION_OWNER,
    ANNOTATION_REQUEST_HASH,
    APP_NAME,
    LABEL_NAME,
    LABEL_OWNER,
    LABEL_PART_OF,
)
from videomerge_contract.views import created_at as created_at
from videomerge_contract.views import is_deleting as is_deleting
from videomerge_contract.views import name_of as name_of

NAME_PREFIX = "vm-"
_NAME_HEX = 20  # 80 bits: collisions are out of reach, names stay short
_TASK_ID = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, as the IETF draft's examples


def random_name() -> str:
    return NAME_PREFIX + uuid.uuid4().hex[:_NAME_HEX]


def key_digest(owner: str, idempotency_key: str) -> str:
    """The key as scoped to its client: the same key of two clients names two merges."""
    return hashlib.sha256(f"{owner}\n{idempotency_key}".encode()).hexdigest()


def name_for_key(digest: str) -> str:
    return NAME_PREFIX + digest[:_NAME_HEX]


def request_digest(spec: dict[str, Any]) -> str:
    """Hash of the spec in canonical JSON: equal for bodies that only differ in key order or defaults."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def is_task_id(value: str) -> bool:
    """Whether ``value`` could name a VideoMerge (a DNS-1123 subdomain); others cannot exist."""
    return bool(_TASK_ID.match(value))


def new_video_merge(name: str, spec: dict[str, Any], key_hash: str | None, owner: str) -> VideoMergeObject:
    annotations = {ANNOTATION_REQUEST_HASH: request_digest(spec), ANNOTATION_OWNER: owner}
    if key_hash is not None:
        annotations[ANNOTATION_IDEMPOTENCY_KEY] = key_hash
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": name,
            "labels": {LABEL_NAME: APP_NAME, LABEL_PART_OF: APP_NAME, LABEL_OWNER: owner},
            "annotations": annotations,
        },
        "spec": spec,
    }


def annotation(obj: VideoMergeObject, key: str) -> str | None:
    value = (obj.get("metadata", {}).get("annotations") or {}).get(key)
    return str(value) if value is not None else None


def owner_of(obj: VideoMergeObject) -> str | None:
    value = (obj.get("metadata", {}).get("labels") or {}).get(LABEL_OWNER)
    return str(value) if value else None
