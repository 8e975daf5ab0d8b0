"""Pages of the merge list, newest first, with a continue token any replica understands.

The token is the sort key of the page's last item, so pages stay stable while merges come and go."""

import base64
import binascii
import json

from videomerge_api import resources
from videomerge_api.store import VideoMergeObject
from videomerge_contract import RestStatus, rest_status

SortKey = tuple[str, str]


class BadTokenError(ValueError):
    pass


def sort_key(obj: VideoMergeObject) -> SortKey:
    return resources.created_at(obj) or "", resources.name_of(obj)


def encode_token(key: SortKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_token(token: str) -> SortKey:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadTokenError(token) from exc
    if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(part, str) for part in raw)):
        raise BadTokenError(token)
    return raw[0], raw[1]


def status_of(obj: VideoMergeObject) -> RestStatus:
    phase = (obj.get("status") or {}).get("phase")
    try:
        return rest_status(phase)
    except ValueError:  # a phase this version does not know yet
        return RestStatus.PROCESSING


def page(
    objects: list[VideoMergeObject], status: RestStatus | None, limit: int, after: SortKey | None
) -> tuple[list[VideoMergeObject], str | None]:
    """Up to ``limit`` objects after ``after`` (newest first) with ``status``; and the next token or None."""
    chosen = sorted(
        (o for o in objects if status is None or status_of(o) == status), key=sort_key, reverse=True
    )
    if after is not None:
        chosen = [o for o in chosen if sort_key(o) < after]
    items = chosen[:limit]
    more = len(chosen) > limit
    return items, encode_token(sort_key(items[-1])) if more and items else None
