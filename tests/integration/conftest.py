"""Fixtures for tests against the local cluster's real API server (see hack/cluster-up.sh)."""

import subprocess
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client
from support.kube import ROOT, api_client, local_kubeconfig, wait_until

from videomerge_contract.resource import CRD_NAME


@pytest.fixture(scope="session")
def kubeconfig() -> str:
    return local_kubeconfig()


@pytest.fixture(scope="session")
def kube(kubeconfig: str) -> client.ApiClient:
    return api_client(kubeconfig)


@pytest.fixture(scope="session")
def crd(kubeconfig: str, kube: client.ApiClient) -> str:
    """The VideoMerge CRD applied from crds/videomerge.yaml and Established."""
    subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            kubeconfig,
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            str(ROOT / "crds" / "videomerge.yaml"),
        ],
        check=True,
        capture_output=True,
    )
    ext = client.ApiextensionsV1Api(kube)

    def established() -> bool:
        conds = ext.read_custom_resource_definition(CRD_NAME).status.conditions or []
        return any(c.type == "Established" and c.status == "True" for c in conds)

    wait_until(established, timeout=30, what=f"CRD {CRD_NAME} Established")
    return CRD_NAME


@pytest.fixture
def namespace(kube: client.ApiClient, crd: str) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(kube)
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"videomerge.io/test": "true"}))
    )
    # The service account controller must create "default" before pods can be admitted.
    wait_until(lambda: _has_default_sa(core, name), timeout=30, what=f"default service account in {name}")
    yield name
    core.delete_namespace(name, propagation_policy="Background")


def _has_default_sa(core: client.CoreV1Api, namespace: str) -> bool:
    try:
        core.read_namespaced_service_account("default", namespace)
        return True
    except client.ApiException:
        return False


@pytest.fixture
def custom(kube: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kube)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps the call phase's report on the test, for fixtures that show logs of a failed test."""
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
