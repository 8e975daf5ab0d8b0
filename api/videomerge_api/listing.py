"""Pages of the merge list, newest first, with a continue token any replica understands.

The token is the sort key of the page's last item, so pages stay stable while merges come and go."""

import base64
import binascii
import heapq
import json

from videomerge_api.store import VideoMergeObject
from videomerge_contract import RestStatus
from videomerge_contract.views import list_key, status_word

SortKey = tuple[str, str]


class BadTokenError(ValueError):
    pass


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


def page(
    objects: list[VideoMergeObject], status: RestStatus | None, limit: int, after: SortKey | None
) -> tuple[list[VideoMergeObject], str | None]:
    """Up to ``limit`` objects after ``after`` (newest first) with ``status``; and the next token or None.
    Picks the page without sorting everything held (10,000 merges: a sort per page was most of its time)."""
    chosen = (
        o
        for o in objects
        if (status is None or status_word(o) == status) and (after is None or list_key(o) < after)
    )
    top = heapq.nlargest(limit + 1, chosen, key=list_key)
    items = top[:limit]
    more = len(top) > limit
    return items, encode_token(list_key(items[-1])) if more and items else None
