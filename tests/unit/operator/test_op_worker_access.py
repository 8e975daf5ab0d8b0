"""What the operator applies in a merge's namespace so that its worker can run there."""

import asyncio
import base64

import pytest
from op_factories import settings

from videomerge_operator.kube import ApiError
from videomerge_operator.worker_access import WORKER_RULES, NamespacePreparer, worker_access


def by_kind(objects):
    return {manifest["kind"]: (path, manifest) for path, manifest in objects}


def test_service_account_role_binding_and_secret_in_the_merge_namespace():
    s = settings(
        worker_service_account="vm-worker",
        s3_secret_name="vm-s3",
        s3_access_key_id="AK",
        s3_secret_access_key="SK",
        instance="rel",
    )
    objects = by_kind(worker_access("team-a", s))
    assert list(objects) == ["ServiceAccount", "Role", "RoleBinding", "Secret"]
    path, role = objects["Role"]
    assert path == "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles/vm-worker"
    assert role["rules"] == list(WORKER_RULES)
    _, binding = objects["RoleBinding"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "vm-worker",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "vm-worker", "namespace": "team-a"}]
    path, secret = objects["Secret"]
    assert path == "/api/v1/namespaces/team-a/secrets/vm-s3"
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
        "accessKey": "AK",
        "secretKey": "SK",
    }
    for _, manifest in objects.values():
        assert manifest["metadata"]["namespace"] == "team-a"
        assert manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "videomerge-operator"
        assert manifest["metadata"]["labels"]["app.kubernetes.io/instance"] == "rel"


def test_no_secret_without_credentials():
    assert "Secret" not in by_kind(worker_access("team-a", settings(s3_secret_name="vm-s3")))
    assert "Secret" not in by_kind(
        worker_access("team-a", settings(s3_access_key_id="a", s3_secret_access_key="b", s3_secret_name=""))
    )


class Recorder:
    def __init__(self, fail: ApiError | None = None) -> None:
        self.paths: list[str] = []
        self.fail = fail

    async def apply(self, path, manifest):
        await asyncio.sleep(0.01)
        if self.fail is not None:
            raise self.fail
        self.paths.append(path)
        return manifest


async def test_each_namespace_is_prepared_once_even_by_concurrent_merges():
    kube = Recorder()
    preparer = NamespacePreparer(settings(prepare_namespaces=True, own_namespace="home"), kube)
    await asyncio.gather(*(preparer.ensure("team-a") for _ in range(20)), preparer.ensure("team-b"))
    await preparer.ensure("team-a")
    assert len(kube.paths) == 3 * 2  # ServiceAccount, Role, RoleBinding in each (no credentials given)
    await preparer.ensure("home")  # the chart made the release namespace's
    assert len(kube.paths) == 6


async def test_nothing_is_applied_unless_enabled():
    kube = Recorder()
    await NamespacePreparer(settings(), kube).ensure("team-a")
    assert kube.paths == []


async def test_a_failed_preparation_is_tried_again():
    kube = Recorder(fail=ApiError(403, "Forbidden", '{"message": "roles is forbidden"}'))
    preparer = NamespacePreparer(settings(prepare_namespaces=True), kube)
    with pytest.raises(ApiError):
        await preparer.ensure("team-a")
    kube.fail = None
    await preparer.ensure("team-a")
    assert len(kube.paths) == 3
