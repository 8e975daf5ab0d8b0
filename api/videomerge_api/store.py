"""The Kubernetes access the API needs, as a small interface: create/get/list/delete/cancel/watch VideoMerges.

Objects are the raw JSON dicts of the resource (``metadata``, ``spec``, ``status``), exactly as the API
server returns them. ``store_kube`` talks to a real API server; ``store_memory`` mimics one in memory.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

VideoMergeObject = dict[str, Any]


class StoreError(Exception):
    """Base of the errors a store raises; the message is safe to show to a client."""


class NotFoundError(StoreError):
    pass


class AlreadyExistsError(StoreError):
    pass


class ConflictError(StoreError):
    """The object changed since the resourceVersion a conditional write named: read it again."""


class InvalidError(StoreError):
    """The API server rejected the object (e.g. a CRD validation rule the REST models do not know)."""


class UnavailableError(StoreError):
    """The API server cannot be reached, timed out, or refused us (RBAC): retry later."""


class WatchExpiredError(StoreError):
    """The watch's resourceVersion is too old (410 Gone): list again."""


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    object: VideoMergeObject

    @property
    def name(self) -> str:
        return str(self.object.get("metadata", {}).get("name", ""))

    @property
    def resource_version(self) -> str | None:
        rv = self.object.get("metadata", {}).get("resourceVersion")
        return str(rv) if rv else None


@dataclass(frozen=True)
class ListPage:
    items: list[VideoMergeObject]
    resource_version: str
    continue_token: str | None


class WatchStream(Protocol):
    """Events of one watch. ``close`` may be called from another thread to end the iteration."""

    def __iter__(self) -> Iterator[WatchEvent]: ...

    def close(self) -> None: ...


class MergeStore(Protocol):
    namespace: str

    def create(self, obj: VideoMergeObject) -> VideoMergeObject: ...

    def get(self, name: str) -> VideoMergeObject: ...

    def list(self, limit: int, continue_token: str | None = None) -> ListPage: ...

    def delete(self, name: str) -> None: ...

    def request_cancel(self, name: str, resource_version: str) -> VideoMergeObject:
        """Sets ``spec.cancel`` (a JSON merge patch), only if the object is still at ``resource_version``
        (else ConflictError)."""
        ...

    def watch(self, resource_version: str, timeout_seconds: int) -> WatchStream: ...

    def ping(self) -> None:
        """Raises UnavailableError when the API server does not answer."""
        ...


def parse_watch_line(line: str | bytes) -> WatchEvent:
    """One line of a watch response → event; an ERROR event becomes WatchExpiredError (410) or UnavailableError."""
    try:
        raw = json.loads(line)
        event_type, obj = raw["type"], raw["object"]
    except (ValueError, KeyError, TypeError) as exc:
        raise UnavailableError("malformed watch event from the API server") from exc
    if event_type == "ERROR":
        code = obj.get("code") if isinstance(obj, dict) else None
        if code == 410:
            raise WatchExpiredError(str(obj.get("message", "resourceVersion too old")))
        raise UnavailableError(f"watch error from the API server: {obj.get('message', code)}")
    if not isinstance(obj, dict):
        raise UnavailableError("malformed watch event from the API server")
    return WatchEvent(type=str(event_type), object=obj)


def list_all(store: MergeStore, page_size: int = 500) -> ListPage:
    """Every object, paging through; the resourceVersion is that of the first page's snapshot."""
    first = store.list(limit=page_size)
    items, token = list(first.items), first.continue_token
    while token:
        page = store.list(limit=page_size, continue_token=token)
        items.extend(page.items)
        token = page.continue_token
    return ListPage(items=items, resource_version=first.resource_version, continue_token=None)
