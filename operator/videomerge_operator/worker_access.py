"""What a worker needs in the namespace of its merge, and applying it there before the first Job.

A worker pod runs as a ServiceAccount that may read its VideoMerge and patch its status, nothing else, and
gets the S3 credentials from a Secret of its own namespace by ``secretKeyRef``. The chart creates these in
the release namespace; in every other namespace the operator applies them (server-side apply, so a re-apply
updates them) before it creates the first Job there. The credentials come from the operator's own
environment (the chart fills it by ``secretKeyRef``): the operator never reads a Secret.
"""

import asyncio
import base64
from typing import Any, Final, Protocol
from urllib.parse import quote

from videomerge_contract.resource import (
    APP_NAME,
    GROUP,
    LABEL_COMPONENT,
    LABEL_INSTANCE,
    LABEL_MANAGED_BY,
    LABEL_NAME,
    LABEL_PART_OF,
    PLURAL,
)
from videomerge_operator.naming import MANAGER, WORKER_COMPONENT
from videomerge_operator.settings import OperatorSettings

# The worker's whole authority; the chart's release-namespace Role has the same rules (a unit test checks).
WORKER_RULES: Final = (
    {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get"]},
    {"apiGroups": [GROUP], "resources": [f"{PLURAL}/status"], "verbs": ["get", "patch"]},
)
RBAC: Final = "rbac.authorization.k8s.io"


def _labels(settings: OperatorSettings) -> dict[str, str]:
    return {
        LABEL_NAME: APP_NAME,
        LABEL_INSTANCE: settings.instance,
        LABEL_COMPONENT: WORKER_COMPONENT,
        LABEL_PART_OF: APP_NAME,
        LABEL_MANAGED_BY: MANAGER,
    }


def worker_access(namespace: str, settings: OperatorSettings) -> list[tuple[str, dict[str, Any]]]:
    """(API path, manifest) of each object a worker needs in ``namespace``, in the order to apply them."""
    name, ns = settings.worker_service_account, quote(namespace)
    meta = {"name": name, "namespace": namespace, "labels": _labels(settings)}
    objects: list[tuple[str, dict[str, Any]]] = [
        (
            f"/api/v1/namespaces/{ns}/serviceaccounts/{quote(name)}",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        ),
        (
            f"/apis/{RBAC}/v1/namespaces/{ns}/roles/{quote(name)}",
            {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": meta, "rules": list(WORKER_RULES)},
        ),
        (
            f"/apis/{RBAC}/v1/namespaces/{ns}/rolebindings/{quote(name)}",
            {
                "apiVersion": f"{RBAC}/v1",
                "kind": "RoleBinding",
                "metadata": meta,
                "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": name},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
            },
        ),
    ]
    access_key, secret_key = settings.s3_access_key_id, settings.s3_secret_access_key
    if settings.s3_secret_name and access_key is not None and secret_key is not None:
        secret = settings.s3_secret_name
        objects.append(
            (
                f"/api/v1/namespaces/{ns}/secrets/{quote(secret)}",
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {**meta, "name": secret},
                    "type": "Opaque",
                    "data": {
                        settings.s3_access_key_key: _b64(access_key.get_secret_value()),
                        settings.s3_secret_key_key: _b64(secret_key.get_secret_value()),
                    },
                },
            )
        )
    return objects


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Applier(Protocol):
    async def apply(self, path: str, manifest: dict[str, Any]) -> dict[str, Any]: ...


class NamespacePreparer:
    """Applies ``worker_access`` once per namespace and process; concurrent merges of a namespace share
    the one attempt, and a failed attempt is tried again by the next merge that needs it."""

    def __init__(self, settings: OperatorSettings, kube: Applier) -> None:
        self.settings = settings
        self.kube = kube
        self._prepared: dict[str, asyncio.Future[None]] = {}

    def needed(self, namespace: str) -> bool:
        return self.settings.prepare_namespaces and namespace != self.settings.own_namespace

    async def ensure(self, namespace: str) -> None:
        if not self.needed(namespace):
            return
        attempt = self._prepared.get(namespace)
        if attempt is None:
            attempt = self._prepared[namespace] = asyncio.ensure_future(self._apply(namespace))
        try:
            await asyncio.shield(attempt)
        except Exception:
            if self._prepared.get(namespace) is attempt:
                del self._prepared[namespace]
            raise

    async def _apply(self, namespace: str) -> None:
        for path, manifest in worker_access(namespace, self.settings):
            await self.kube.apply(path, manifest)
