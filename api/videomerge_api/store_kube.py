"""MergeStore over a real Kubernetes API server (the ``kubernetes`` client, blocking calls)."""

import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import urllib3
from kubernetes import client

from videomerge_api.settings import ApiSettings
from videomerge_api.store import (
    AlreadyExistsError,
    ConflictError,
    InvalidError,
    ListPage,
    NotFoundError,
    UnavailableError,
    VideoMergeObject,
    WatchEvent,
    WatchExpiredError,
    parse_watch_line,
)
from videomerge_contract import CANCEL_PATCH, kube_client
from videomerge_contract.resource import GROUP, PLURAL, VERSION

log = logging.getLogger(__name__)
T = TypeVar("T")
_UNREACHABLE = "the Kubernetes API server cannot be reached"


def client_configuration(settings: ApiSettings) -> client.Configuration:
    """The contract's one client set-up: the kubeconfig when set, else in-cluster, else the default one."""
    cfg = cast(client.Configuration, kube_client.load_configuration(settings.kubeconfig))
    cfg.connection_pool_maxsize = settings.kube_pool_size
    cfg.retries = 1  # a refused connection answers 503 at once instead of after urllib3's 3 retries
    return cfg


def _api_message(exc: client.ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except (ValueError, AttributeError):
        return str(exc.reason)


def translate(call: Callable[[], T]) -> T:
    """Runs a client call, turning its exceptions into the store's (messages safe for clients)."""
    try:
        return call()
    except client.ApiException as exc:
        status = exc.status or 0
        if status == 404:
            raise NotFoundError(_api_message(exc)) from None
        if status == 409:
            raise AlreadyExistsError(_api_message(exc)) from None
        if status == 410:
            raise WatchExpiredError(_api_message(exc)) from None
        if status in (400, 422):
            raise InvalidError(_api_message(exc)) from None
        if status in (401, 403):
            log.error("API server refused access to %s (%s): check the RBAC", PLURAL, status)
            raise UnavailableError("the API is not allowed to access VideoMerges") from None
        log.warning("API server answered %s %s", status, exc.reason)
        raise UnavailableError(f"the Kubernetes API server answered {status}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        log.warning("%s: %s", _UNREACHABLE, type(exc).__name__)
        raise UnavailableError(_UNREACHABLE) from None


class KubeWatchStream:
    """The chunked body of one watch request, split into events; ``close`` works from any thread."""

    def __init__(self, response: urllib3.HTTPResponse) -> None:
        self._response = response
        self._closed = False
        self._released = False
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[WatchEvent]:
        buffer = bytearray()
        try:
            for chunk in self._response.stream(amt=None, decode_content=False):
                buffer.extend(chunk)
                while (newline := buffer.find(b"\n")) != -1:
                    line, buffer = bytes(buffer[:newline]), buffer[newline + 1 :]
                    if line.strip():
                        yield parse_watch_line(line)
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            if not self._closed:
                raise UnavailableError(f"watch interrupted: {type(exc).__name__}") from None
        finally:
            with self._lock:
                self._released = True
                self._response.release_conn()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._released:
                return
            try:
                # shutdown() wakes a reader blocked on the socket in the syncer's thread; close() alone would not.
                self._response.shutdown()
                self._response.close()
            except (OSError, RuntimeError, urllib3.exceptions.HTTPError):
                pass


class KubeMergeStore:
    def __init__(
        self, api: client.ApiClient, namespace: str, timeout_seconds: float, watch_api: client.ApiClient
    ) -> None:
        self.namespace = namespace
        self._custom = client.CustomObjectsApi(api)
        # The watch gets a client of its own so its long request never holds a connection reads need.
        self._watch_custom = client.CustomObjectsApi(watch_api)
        self._timeout = timeout_seconds

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> "KubeMergeStore":
        cfg = client_configuration(settings)
        return cls(
            client.ApiClient(cfg), settings.namespace, settings.kube_timeout_seconds, client.ApiClient(cfg)
        )

    def _args(self) -> tuple[str, str, str, str]:
        return GROUP, VERSION, self.namespace, PLURAL

    def create(self, obj: VideoMergeObject) -> VideoMergeObject:
        call = self._custom.create_namespaced_custom_object
        return cast(
            VideoMergeObject, translate(lambda: call(*self._args(), obj, _request_timeout=self._timeout))
        )

    def get(self, name: str) -> VideoMergeObject:
        call = self._custom.get_namespaced_custom_object
        return cast(
            VideoMergeObject, translate(lambda: call(*self._args(), name, _request_timeout=self._timeout))
        )

    def list(self, limit: int, continue_token: str | None = None) -> ListPage:
        call = self._custom.list_namespaced_custom_object
        raw = cast(
            dict[str, Any],
            translate(
                lambda: call(
                    *self._args(), limit=limit, _continue=continue_token, _request_timeout=self._timeout
                )
            ),
        )
        meta = raw.get("metadata") or {}
        return ListPage(
            items=list(raw.get("items") or []),
            resource_version=str(meta.get("resourceVersion", "")),
            continue_token=meta.get("continue") or None,
        )

    def delete(self, name: str) -> None:
        call = self._custom.delete_namespaced_custom_object
        translate(
            lambda: call(*self._args(), name, propagation_policy="Background", _request_timeout=self._timeout)
        )

    def request_cancel(self, name: str, resource_version: str) -> VideoMergeObject:
        call = self._custom.patch_namespaced_custom_object
        patch = {**CANCEL_PATCH, "metadata": {"resourceVersion": resource_version}}
        try:
            return cast(
                VideoMergeObject,
                translate(
                    lambda: call(
                        *self._args(),
                        name,
                        patch,
                        _content_type="application/merge-patch+json",
                        _request_timeout=self._timeout,
                    )
                ),
            )
        except AlreadyExistsError as exc:  # a 409 on a patch: the resourceVersion is not the current one
            raise ConflictError(str(exc)) from None

    def watch(self, resource_version: str, timeout_seconds: int) -> KubeWatchStream:
        call = self._watch_custom.list_namespaced_custom_object
        response = translate(
            lambda: call(
                *self._args(),
                watch=True,
                resource_version=resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=timeout_seconds,
                _preload_content=False,
                # The server ends the watch after timeout_seconds; the read timeout catches a dead link.
                _request_timeout=(self._timeout, timeout_seconds + 30),
            )
        )
        return KubeWatchStream(cast(urllib3.HTTPResponse, response))

    def ping(self) -> None:
        self.list(limit=1)
