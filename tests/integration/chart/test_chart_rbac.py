"""The chart's RBAC on the real API server, asked with `kubectl auth can-i --as=<ServiceAccount>`: what the
operator, the API and the worker may do, and what each must not (read Secrets, exec, create pods, act in
namespaces outside its scope). Only the RBAC objects and ServiceAccounts of a release are applied."""

import subprocess
import uuid
from collections.abc import Iterator

import pytest
import yaml
from kubernetes import client
from support.chart import CLUSTER_SCOPED, of_kind, render
from support.kube import wait_until

from videomerge_operator.settings import OperatorSettings
from videomerge_operator.worker_access import worker_access

RBAC_KINDS = {"ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}


@pytest.fixture
def other_namespace(kube: client.ApiClient, namespace: str) -> Iterator[str]:
    """A second fresh namespace (the `namespace` fixture is the release's)."""
    name = f"{namespace}-b"
    core = client.CoreV1Api(kube)
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"videomerge.io/test": "true"}))
    )
    yield name
    core.delete_namespace(name, propagation_policy="Background")


class Release:
    def __init__(self, kubeconfig: str, namespace: str, *values: str) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.name = f"rb{uuid.uuid4().hex[:6]}"
        self.fullname = f"{self.name}-videomerge"
        self.docs = of_kind(render(*values, release=self.name, namespace=namespace), *RBAC_KINDS)

    def kubectl(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", "--kubeconfig", self.kubeconfig, *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=check,
        )

    def apply(self) -> None:
        applied = self.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(self.docs), check=False)
        assert applied.returncode == 0, applied.stderr

    def delete_cluster_objects(self) -> None:
        cluster = [d for d in self.docs if d["kind"] in CLUSTER_SCOPED]
        if cluster:
            self.kubectl(
                "delete", "--ignore-not-found", "-f", "-", stdin=yaml.safe_dump_all(cluster), check=False
            )

    def account(self, component: str) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.fullname}-{component}"

    def can(
        self, component: str, verb: str, resource: str, namespace: str | None, subresource: str = ""
    ) -> bool:
        args = ["auth", "can-i", verb, resource, "--as", self.account(component)]
        args += ["-n", namespace] if namespace else ["--all-namespaces"]
        if subresource:
            args += ["--subresource", subresource]
        answer = self.kubectl(*args, check=False)
        assert answer.stdout.strip() in ("yes", "no"), answer.stdout + answer.stderr
        return answer.stdout.strip() == "yes"


@pytest.fixture
def release(kubeconfig: str, namespace: str) -> Iterator[list[Release]]:
    made: list[Release] = []
    yield made
    for r in made:
        r.delete_cluster_objects()


def check(release: Release, matrix: list[tuple[str, str, str, str | None, str, bool]]) -> None:
    wrong = [
        f"{component} {verb} {resource}{'/' + sub if sub else ''} in {ns or 'all namespaces'}: expected {expected}"
        for component, verb, resource, ns, sub, expected in matrix
        if release.can(component, verb, resource, ns, sub) != expected
    ]
    assert not wrong, "\n".join(wrong)


def test_listed_namespaces_least_privilege_matrix(kubeconfig, namespace, other_namespace, release):
    r = Release(kubeconfig, namespace, "--set", f"operator.namespaces={{{other_namespace}}}")
    release.append(r)
    r.apply()
    vm, s3, worker = "videomerges.videomerge.io", f"secrets/{r.fullname}-s3", f"{r.fullname}-worker"
    ns, other, outside = namespace, other_namespace, "default"
    wait_until(lambda: r.can("operator", "create", "jobs.batch", other), timeout=30, what="RBAC in effect")
    check(
        r,
        [
            # The operator: merges and Jobs in its namespaces, preparing the listed one.
            ("operator", "create", "jobs.batch", ns, "", True),
            ("operator", "create", "jobs.batch", other, "", True),
            ("operator", "list", vm, other, "", True),
            ("operator", "patch", vm, other, "status", True),
            ("operator", "create", "events", other, "", True),
            ("operator", "create", "roles.rbac.authorization.k8s.io", other, "", True),
            ("operator", "patch", f"roles.rbac.authorization.k8s.io/{worker}", other, "", True),
            ("operator", "patch", s3, other, "", True),
            ("operator", "update", "leases.coordination.k8s.io", ns, "", True),
            # … and nothing beyond: no Secret reads, no pods of its own, no exec, no other namespace.
            ("operator", "get", s3, other, "", False),
            ("operator", "get", "secrets", ns, "", False),
            ("operator", "list", "secrets", other, "", False),
            ("operator", "patch", "secrets/someone-elses", other, "", False),
            ("operator", "patch", "roles.rbac.authorization.k8s.io/admin", other, "", False),
            ("operator", "create", "pods", other, "", False),
            ("operator", "create", "pods", other, "exec", False),
            ("operator", "create", "jobs.batch", outside, "", False),
            ("operator", "list", vm, outside, "", False),
            ("operator", "list", vm, None, "", False),
            ("operator", "create", "roles.rbac.authorization.k8s.io", ns, "", False),
            ("operator", "update", vm, other, "", False),
            # The API: VideoMerges of its own namespace (patch: to cancel one); no status, no Jobs, no Secrets.
            ("api", "create", vm, ns, "", True),
            ("api", "list", vm, ns, "", True),
            ("api", "create", vm, other, "", False),
            ("api", "patch", vm, ns, "", True),  # DELETE of a running merge sets spec.cancel
            ("api", "delete", vm, ns, "", True),
            ("api", "patch", vm, other, "", False),
            ("api", "update", vm, ns, "", False),
            ("api", "patch", vm, ns, "status", False),
            ("api", "create", "jobs.batch", ns, "", False),
            ("api", "get", "secrets", ns, "", False),
            ("api", "create", "pods", ns, "exec", False),
            # The worker: read its merge, patch its status; nothing else.
            ("worker", "get", vm, ns, "", True),
            ("worker", "patch", vm, ns, "status", True),
            ("worker", "list", vm, ns, "", False),
            ("worker", "update", vm, ns, "", False),
            ("worker", "delete", vm, ns, "", False),
            ("worker", "get", "secrets", ns, "", False),
            ("worker", "create", "pods", ns, "", False),
            ("worker", "get", vm, other, "", False),
        ],
    )


def test_the_operator_can_prepare_a_listed_namespace_with_exactly_its_rights(
    kubeconfig, kube, namespace, other_namespace, release
):
    """Server-side apply of the worker's objects as the operator's ServiceAccount: the create-by-apply path
    and RBAC's escalation check (a Role may only grant what its creator holds) both pass."""
    r = Release(kubeconfig, namespace, "--set", f"operator.namespaces={{{other_namespace}}}")
    release.append(r)
    r.apply()
    settings = OperatorSettings(
        worker_service_account=f"{r.fullname}-worker",
        s3_secret_name=f"{r.fullname}-s3",
        s3_access_key_id="AK",
        s3_secret_access_key="SK",
        lease_namespace=namespace,
    )
    manifests = [m for _, m in worker_access(other_namespace, settings)]
    for _ in range(2):  # the second apply is the update path (e.g. rotated credentials)
        applied = r.kubectl(
            "apply", "--server-side", "--field-manager", "videomerge-operator", "--force-conflicts",
            "--as", r.account("operator"), "-f", "-",
            stdin=yaml.safe_dump_all(manifests), check=False,
        )  # fmt: skip
        assert applied.returncode == 0, applied.stderr
    secret = client.CoreV1Api(kube).read_namespaced_secret(f"{r.fullname}-s3", other_namespace)
    assert set(secret.data) == {"accessKey", "secretKey"}
    # What it made grants the worker its rights there, and no more.
    check(
        r,
        [
            ("operator", "create", "jobs.batch", other_namespace, "", True),
        ],
    )
    worker = f"system:serviceaccount:{other_namespace}:{r.fullname}-worker"
    for verb, sub, expected in (("patch", "status", "yes"), ("get", "", "yes"), ("delete", "", "no")):
        args = ["auth", "can-i", verb, "videomerges.videomerge.io", "-n", other_namespace, "--as", worker]
        answer = r.kubectl(*args, *(["--subresource", sub] if sub else []), check=False).stdout.strip()
        assert answer == expected, (verb, sub, answer)
    # Applying anything else in its name is refused: e.g. a Role that grants Secrets.
    greedy = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": f"{r.fullname}-worker", "namespace": other_namespace},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
    }
    refused = r.kubectl(
        "apply", "--server-side", "--field-manager", "videomerge-operator", "--force-conflicts",
        "--as", r.account("operator"), "-f", "-", stdin=yaml.safe_dump(greedy), check=False,
    )  # fmt: skip
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower(), refused.stderr


def test_all_namespaces_mode_is_cluster_wide_but_reads_no_secret(
    kubeconfig, namespace, other_namespace, release
):
    r = Release(kubeconfig, namespace)
    release.append(r)
    r.apply()
    worker = f"{r.fullname}-worker"
    wait_until(
        lambda: r.can("operator", "create", "jobs.batch", "default"), timeout=30, what="RBAC in effect"
    )
    check(
        r,
        [
            ("operator", "create", "jobs.batch", other_namespace, "", True),
            ("operator", "list", "videomerges.videomerge.io", None, "", True),
            ("operator", "patch", f"roles.rbac.authorization.k8s.io/{worker}", other_namespace, "", True),
            ("operator", "get", "secrets", None, "", False),
            ("operator", "list", "secrets", other_namespace, "", False),
            ("operator", "create", "pods", other_namespace, "", False),
            ("operator", "create", "pods", other_namespace, "exec", False),
            ("operator", "patch", "roles.rbac.authorization.k8s.io/admin", other_namespace, "", False),
            ("operator", "create", "clusterrolebindings.rbac.authorization.k8s.io", None, "", False),
            ("operator", "list", "customresourcedefinitions.apiextensions.k8s.io", None, "", False),
            ("operator", "delete", "namespaces", None, "", False),
            ("api", "create", "videomerges.videomerge.io", other_namespace, "", False),
            ("worker", "get", "videomerges.videomerge.io", other_namespace, "", False),
        ],
    )


def test_users_of_the_built_in_view_and_edit_roles_see_videomerges(kubeconfig, namespace, release):
    r = Release(kubeconfig, namespace)
    release.append(r)
    r.apply()
    for user, role in (("viewer", "view"), ("editor", "edit")):
        r.kubectl("-n", namespace, "create", "rolebinding", user, f"--clusterrole={role}", f"--user={user}")

    def can(user: str, verb: str) -> bool:
        args = ["auth", "can-i", verb, "videomerges.videomerge.io", "-n", namespace, "--as", user]
        return r.kubectl(*args, check=False).stdout.strip() == "yes"

    # The controller-manager aggregates the labelled ClusterRoles into view/edit within moments.
    wait_until(lambda: can("viewer", "list") and can("editor", "create"), timeout=60, what="aggregation")
    assert not can("viewer", "create") and not can("viewer", "delete")
    assert can("editor", "delete") and can("viewer", "watch")
    status = [
        "auth",
        "can-i",
        "patch",
        "videomerges.videomerge.io",
        "--subresource",
        "status",
        "-n",
        namespace,
    ]
    assert r.kubectl(*status, "--as", "editor", check=False).stdout.strip() == "no"
