"""kopf wiring: indexes that mirror VideoMerges, Jobs and pods, and thin handlers that wake the controller.

kopf's bookkeeping goes to annotations (never to the status, whose schema is the contract's), kopf's own
peering is off (a Lease elects the one acting replica, see leader.py), and Jobs and pods are watched
through a server-side label selector, so only the operator's workloads reach this process.
"""

import asyncio
import dataclasses
import logging
import os
from datetime import UTC, datetime
from typing import Any

import kopf

from videomerge_contract.resource import (
    GROUP,
    LABEL_COMPONENT,
    LABEL_MANAGED_BY,
    LABEL_SETTLED,
    PLURAL,
    VERSION,
)
from videomerge_operator.cache import JOB_INDEX, MERGE_INDEX, POD_INDEX, KopfIndexCache
from videomerge_operator.controller import Controller
from videomerge_operator.naming import (
    CONTAINER_NAME,
    FINALIZER,
    MANAGER,
    WORKER_COMPONENT,
    WORKLOAD_SELECTOR,
)
from videomerge_operator.s3_cleanup import delete_merged_object
from videomerge_operator.settings import OperatorSettings
from videomerge_operator.transitions import compact_if_settled
from videomerge_operator.views import job_view, merge_view, pod_view

log = logging.getLogger("videomerge_operator.handlers")
WORKLOAD_LABELS = {LABEL_MANAGED_BY: MANAGER, LABEL_COMPONENT: WORKER_COMPONENT}


def _at_service_host(info: kopf.ConnectionInfo) -> kopf.ConnectionInfo:
    """kopf's in-cluster login always names https://kubernetes.default.svc; honour the standard
    KUBERNETES_SERVICE_HOST/PORT instead, as client-go does (clusters without cluster DNS need it)."""
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        return info
    host = f"[{host}]" if ":" in host else host
    return dataclasses.replace(info, server=f"https://{host}:{port}")


class LeanDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    """kopf's essence of an object, built without first deep-copying all of it.

    kopf builds it on every event by deep-copying the whole body, then dropping status and most metadata;
    for Jobs and pods (managedFields, status) that copy was the operator's largest CPU cost in a burst.
    Dropping those first gives the same essence.
    """

    def build(self, *, body: Any, extra_fields: Any = None) -> Any:
        extra = list(extra_fields or [])
        if extra:  # handlers that track status fields need the full body
            return super().build(body=body, extra_fields=extra)
        meta = body.get("metadata") or {}
        slim = {key: value for key, value in body.items() if key not in ("metadata", "status")}
        slim["metadata"] = {key: meta[key] for key in ("labels", "annotations") if key in meta}
        return super().build(body=kopf.Body(slim), extra_fields=extra)


def kopf_settings() -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    settings.peering.standalone = True
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = LeanDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.persistence.finalizer = FINALIZER
    settings.posting.enabled = False  # the controller posts its own, meaningful Events
    # No watching of CRDs and namespaces: the CRD exists before the operator starts (Helm installs crds/
    # first), the namespaces are given, and so the operator needs no cluster-wide read rights for them.
    settings.scanning.disabled = True
    # Settled merges (finished, acknowledged, never written again) stay out of the watch: thousands of them
    # would otherwise be held, and all listed again at every start. The retention sweep lists them.
    settings.watching.label_selectors[GROUP, VERSION, PLURAL] = f"!{LABEL_SETTLED}"
    settings.watching.label_selectors["batch", "v1", "jobs"] = WORKLOAD_SELECTOR
    settings.watching.label_selectors["", "v1", "pods"] = WORKLOAD_SELECTOR
    return settings


def build_registry(
    controller: Controller, cache: KopfIndexCache, settings: OperatorSettings
) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    def opened(kwargs: dict[str, Any]) -> None:
        # kopf calls handlers only once every index holds the initial listing: the first call opens the gate
        # (unless kopf's gate did, with nothing listed: main.Operator._open_when_indexed).
        if not cache.bound:
            cache.bind(kwargs)
            controller.ready.set()

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        in_cluster = kopf.login_with_service_account(**kwargs)
        return _at_service_host(in_cluster) if in_cluster else kopf.login_with_kubeconfig(**kwargs)

    @kopf.index(GROUP, VERSION, PLURAL, id=MERGE_INDEX, registry=registry)
    def merge_index(**kwargs: Any) -> dict[Any, Any]:
        view = compact_if_settled(merge_view(kwargs["body"]), datetime.now(UTC))
        return {(kwargs["namespace"], kwargs["name"]): view}

    @kopf.index("batch", "v1", "jobs", id=JOB_INDEX, labels=WORKLOAD_LABELS, registry=registry)
    def job_index(**kwargs: Any) -> dict[Any, Any]:
        return {(kwargs["namespace"], kwargs["name"]): job_view(kwargs["body"])}

    @kopf.index("", "v1", "pods", id=POD_INDEX, labels=WORKLOAD_LABELS, registry=registry)
    def pod_index(**kwargs: Any) -> dict[Any, Any] | None:
        view = pod_view(kwargs["body"], CONTAINER_NAME)
        return {(kwargs["namespace"], view.job_name): view} if view.job_name else None

    @kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)
    async def merge_event(**kwargs: Any) -> None:
        opened(kwargs)
        controller.notify((kwargs["namespace"], kwargs["name"]))

    @kopf.on.event("batch", "v1", "jobs", labels=WORKLOAD_LABELS, registry=registry)
    async def job_event(**kwargs: Any) -> None:
        opened(kwargs)
        owner = job_view(kwargs["body"]).owner_name
        if owner:
            controller.notify((kwargs["namespace"], owner))

    @kopf.on.event("", "v1", "pods", labels=WORKLOAD_LABELS, registry=registry)
    async def pod_event(**kwargs: Any) -> None:
        opened(kwargs)
        namespace, job_name = kwargs["namespace"], pod_view(kwargs["body"], CONTAINER_NAME).job_name
        for job in cache.job(namespace, job_name) if job_name else ():
            if job.owner_name:
                controller.notify((namespace, job.owner_name))

    if settings.delete_s3_objects:

        @kopf.on.delete(GROUP, VERSION, PLURAL, registry=registry, retries=5, backoff=10)
        async def delete_object(**kwargs: Any) -> None:
            namespace, name, status, retry = (
                kwargs["namespace"],
                kwargs["name"],
                kwargs["status"],
                kwargs["retry"],
            )
            try:
                await asyncio.to_thread(delete_merged_object, settings, namespace, name, dict(status))
            except Exception as error:
                if retry >= 4:  # do not hold the VideoMerge hostage to a storage outage forever
                    log.error("giving up deleting the merged object of %s/%s: %s", namespace, name, error)
                    return
                raise kopf.TemporaryError(f"could not delete the merged object: {error}", delay=10) from error

    return registry
