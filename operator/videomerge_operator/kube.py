"""A thin Kubernetes API client: raw JSON in and out, run in a thread pool so the event loop never blocks.

The generated ``kubernetes`` models are skipped on purpose: the operator only needs a few calls, and raw
dicts are cheaper to build and parse than models when hundreds of merges arrive at once.
"""

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar, cast
from urllib.parse import quote

from kubernetes import client

from videomerge_contract import kube_client
from videomerge_contract.resource import GROUP, LABEL_SETTLED, PLURAL, VERSION
from videomerge_operator.executor import PriorityExecutor

T = TypeVar("T")
JSON: Final = "application/json"
MERGE_PATCH: Final = "application/merge-patch+json"
APPLY_PATCH: Final = "application/apply-patch+yaml"  # a JSON body is YAML too
FIELD_MANAGER: Final = "videomerge-operator"
REQUEST_TIMEOUT: Final = 30.0
# Settled merges listed at a time by the retention sweep. 500 a page held the operator at 155-180 MB with
# 10,000 settled (each parsed page's 7 MB left holes in the heap); 100 a page: 94-98 MB.
LIST_PAGE: Final = 100
Priority = int
LEASE: Final = -1  # its own thread, see KubeApi
URGENT: Final = 0
NORMAL: Final = 1
BACKGROUND: Final = 2
LEASE_THREADS: Final = 1


class ApiError(Exception):
    def __init__(self, status: int, reason: str, body: str) -> None:
        super().__init__(f"{status} {reason}: {body[:300]}")
        self.status = status
        self.reason = reason
        self.body = body

    @property
    def message(self) -> str:
        """The API server's own explanation (the Status object's message), else the raw body."""
        try:
            return str(json.loads(self.body).get("message") or self.body)
        except (ValueError, AttributeError):
            return self.body[:500]

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        """409: AlreadyExists on create, or a stale resourceVersion on update/patch."""
        return self.status == 409


def connection_pool_size(concurrency: int) -> int:
    """Every thread that may call at once needs its own connection, or urllib3 discards and reopens them."""
    return concurrency + LEASE_THREADS


def load_api_client(kubeconfig: str | None, pool_size: int) -> client.ApiClient:
    """The contract's one client set-up (in-cluster, else the kubeconfig), one connection per thread."""
    return cast(
        client.ApiClient, kube_client.api_client(kubeconfig, pool_size=pool_size, timeout=REQUEST_TIMEOUT)
    )


def merge_path(namespace: str, name: str = "", sub: str = "") -> str:
    path = f"/apis/{GROUP}/{VERSION}/namespaces/{quote(namespace)}/{PLURAL}"
    return path + (f"/{quote(name)}" if name else "") + (f"/{sub}" if sub else "")


class KubeApi:
    """Async facade; each call runs the blocking HTTP request on a thread, most urgent first.

    ``URGENT`` (Job creation, what users wait for) goes before ``NORMAL`` (reads, status patches), which
    goes before ``BACKGROUND`` (Events). The Lease has a thread of its own: renewing must not wait for a
    thread stuck behind a busy API server, or a busy leader loses its Lease.
    """

    def __init__(self, api_client: client.ApiClient, concurrency: int) -> None:
        self._api = api_client
        self._pool = PriorityExecutor(concurrency, "kube")
        self._lease_pool = ThreadPoolExecutor(max_workers=LEASE_THREADS, thread_name_prefix="kube-lease")

    def close(self) -> None:
        self._pool.shutdown()
        self._lease_pool.shutdown(wait=False, cancel_futures=True)
        self._api.close()

    async def _run(self, fn: Callable[[], T], priority: Priority) -> T:
        if priority == LEASE:
            return await asyncio.get_running_loop().run_in_executor(self._lease_pool, fn)
        return await asyncio.wrap_future(self._pool.submit(fn, priority))

    def request_sync(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = JSON,
        query: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {"Accept": JSON}
        if body is not None:
            headers["Content-Type"] = content_type
        _, url, headers, body, _ = self._api.param_serialize(
            method=method,
            resource_path=path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self._api.call_api(
            method, url, header_params=headers, body=body, _request_timeout=REQUEST_TIMEOUT
        )
        data = response.read() or b""
        if not 200 <= response.status <= 299:
            raise ApiError(response.status, str(response.reason), data.decode(errors="replace"))
        return json.loads(data) if data else {}

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = JSON,
        query: dict[str, str] | None = None,
        priority: Priority = NORMAL,
    ) -> dict[str, Any]:
        return await self._run(lambda: self.request_sync(method, path, body, content_type, query), priority)

    # VideoMerges
    async def get_merge(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return await self.request("GET", merge_path(namespace, name))
        except ApiError as error:
            if error.not_found:
                return None
            raise

    async def patch_merge_status(
        self, namespace: str, name: str, status: dict[str, Any], resource_version: str | None
    ) -> dict[str, Any]:
        """JSON merge patch of ``status``; with ``resource_version`` it fails with 409 if anyone wrote since."""
        body: dict[str, Any] = {"status": status}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        return await self.request("PATCH", merge_path(namespace, name, "status"), body, MERGE_PATCH)

    async def label_settled(self, namespace: str, name: str) -> None:
        """Marks a merge settled: the watch drops it (see LABEL_SETTLED)."""
        body = {"metadata": {"labels": {LABEL_SETTLED: "true"}}}
        try:
            await self.request("PATCH", merge_path(namespace, name), body, MERGE_PATCH, priority=BACKGROUND)
        except ApiError as error:
            if not error.not_found:
                raise

    async def settled_merges(
        self, namespace: str | None, after: str | None, limit: int = LIST_PAGE
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of settled merges (in ``namespace``, or in all) and the token of the next, if any."""
        path = merge_path(namespace) if namespace else f"/apis/{GROUP}/{VERSION}/{PLURAL}"
        query = {"labelSelector": LABEL_SETTLED, "limit": str(limit)} | ({"continue": after} if after else {})
        page = await self.request("GET", path, query=query, priority=BACKGROUND)
        return page.get("items") or [], (page.get("metadata") or {}).get("continue") or None

    async def drop_finalizer(self, merge: dict[str, Any], finalizer: str) -> None:
        meta = merge["metadata"]
        kept = [f for f in meta.get("finalizers") or [] if f != finalizer]
        body = {"metadata": {"finalizers": kept, "resourceVersion": meta["resourceVersion"]}}
        try:
            await self.request("PATCH", merge_path(meta["namespace"], meta["name"]), body, MERGE_PATCH)
        except ApiError as error:
            if not error.not_found and not error.conflict:  # a conflict: the next sweep sees it again
                raise

    async def delete_merge(self, namespace: str, name: str, uid: str) -> None:
        options = {"preconditions": {"uid": uid}, "propagationPolicy": "Background"}
        try:
            await self.request("DELETE", merge_path(namespace, name), options)
        except ApiError as error:
            if not error.not_found and not error.conflict:
                raise

    # Jobs
    async def create_job(self, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        path = f"/apis/batch/v1/namespaces/{quote(namespace)}/jobs"
        return await self.request("POST", path, manifest, priority=URGENT)

    async def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return await self.request(
                "GET", f"/apis/batch/v1/namespaces/{quote(namespace)}/jobs/{quote(name)}"
            )
        except ApiError as error:
            if error.not_found:
                return None
            raise

    async def delete_job(self, namespace: str, name: str, uid: str | None) -> None:
        options: dict[str, Any] = {"propagationPolicy": "Background"}
        if uid:
            options["preconditions"] = {"uid": uid}
        try:
            await self.request(
                "DELETE", f"/apis/batch/v1/namespaces/{quote(namespace)}/jobs/{quote(name)}", options
            )
        except ApiError as error:
            if not error.not_found and not error.conflict:
                raise

    # Anything the operator fully owns (worker_access): server-side apply creates or updates it.
    async def apply(self, path: str, manifest: dict[str, Any]) -> dict[str, Any]:
        query = {"fieldManager": FIELD_MANAGER, "force": "true"}
        return await self.request("PATCH", path, manifest, APPLY_PATCH, query, priority=URGENT)

    # Events
    async def failed_create_message(self, namespace: str, job_uid: str) -> str | None:
        """The newest FailedCreate Event of a Job (the Job controller's reason it has no pod), if any."""
        selector = f"involvedObject.uid={job_uid},reason=FailedCreate"
        found = await self.request(
            "GET", f"/api/v1/namespaces/{quote(namespace)}/events", query={"fieldSelector": selector}
        )
        items = found.get("items") or []
        if not items:
            return None
        newest = max(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
        return str(newest.get("message") or "FailedCreate")

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        await self.request(
            "POST", f"/api/v1/namespaces/{quote(namespace)}/events", event, priority=BACKGROUND
        )
