"""The Helm chart lints, renders for every values file, and its schema rejects bad values."""

import subprocess
from pathlib import Path

import pytest
import yaml
from support.chart import CHART, LOCAL_VALUES, render, template
from support.tools import tool

from videomerge_operator.worker_access import WORKER_RULES


@pytest.fixture(scope="module")
def helm() -> Path:
    return tool("helm")


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def env_of(container: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


@pytest.mark.parametrize("values", [[], ["-f", str(LOCAL_VALUES)]], ids=["default", "local"])
def test_lint_passes(helm, values):
    result = subprocess.run([str(helm), "lint", str(CHART), *values], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_default_render_is_production_shaped():
    docs = render()
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == {"vm-videomerge-operator", "vm-videomerge-api", "vm-videomerge-notifier"}
    operator = deployments["vm-videomerge-operator"]["spec"]["template"]["spec"]
    assert "hostNetwork" not in operator
    container = operator["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    env = env_of(container)
    assert "VIDEOMERGE_OPERATOR_NAMESPACES" not in env, "operator.namespaces: [] means every namespace"
    assert env["VIDEOMERGE_OPERATOR_PREPARE_NAMESPACES"] == "true"
    assert env["VIDEOMERGE_OPERATOR_WORKER_SERVICE_ACCOUNT"] == "vm-videomerge-worker"
    assert env["VIDEOMERGE_OPERATOR_S3_SECRET_NAME"] == "vm-videomerge-s3"
    assert env["VIDEOMERGE_OPERATOR_ALLOW_PRIVATE_URLS"] == "false"
    assert "VIDEOMERGE_OPERATOR_S3_ENDPOINT_URL" not in env  # empty values stay unset
    for d in docs:
        labels = d["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/part-of") == "videomerge", d["metadata"]["name"]
        assert labels.get("app.kubernetes.io/instance") == "vm"


def test_worker_role_is_least_privilege():
    (role,) = [r for n, r in by_kind(render(), "Role").items() if n.endswith("-worker")]
    assert role["rules"] == [
        {"apiGroups": ["videomerge.io"], "resources": ["videomerges"], "verbs": ["get"]},
        {"apiGroups": ["videomerge.io"], "resources": ["videomerges/status"], "verbs": ["get", "patch"]},
    ]
    # The operator applies the same rules in the namespaces it prepares.
    assert role["rules"] == list(WORKER_RULES)
    (api_role,) = [r for n, r in by_kind(render(), "Role").items() if n.endswith("-api")]
    assert "videomerges/status" not in str(api_role["rules"])
    assert api_role["rules"] == [  # patch: a DELETE of a running merge sets spec.cancel
        {
            "apiGroups": ["videomerge.io"],
            "resources": ["videomerges"],
            "verbs": ["get", "list", "watch", "create", "patch", "delete"],
        }
    ]


def test_local_values_keep_everything_on_loopback():
    docs = render("-f", str(LOCAL_VALUES))
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == {
        "vm-videomerge-operator",
        "vm-videomerge-api",
        "vm-videomerge-minio",
        "vm-videomerge-notifier",
    }
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["hostNetwork"] is True
        # A surge pod could not bind the host port its predecessor holds: replace, never surge.
        strategy = deployment["spec"]["strategy"]
        assert strategy.get("rollingUpdate", {}).get("maxSurge", 0) == 0 or strategy["type"] == "Recreate", (
            name
        )
        assert pod["containers"][0]["imagePullPolicy"] == "Never"
    api_env = env_of(deployments["vm-videomerge-api"]["spec"]["template"]["spec"]["containers"][0])
    assert (api_env["VIDEOMERGE_API_HOST"], api_env["VIDEOMERGE_API_PORT"]) == ("127.0.0.1", "8080")
    op_env = env_of(deployments["vm-videomerge-operator"]["spec"]["template"]["spec"]["containers"][0])
    assert op_env["VIDEOMERGE_OPERATOR_S3_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert op_env["VIDEOMERGE_OPERATOR_HOST_NETWORK"] == "true"
    assert op_env["KUBERNETES_SERVICE_HOST"] == "127.0.0.1"
    assert yaml.safe_load(op_env["VIDEOMERGE_OPERATOR_EXTRA_ENV"])["KUBERNETES_SERVICE_HOST"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ("api.maxClips=500", "/api/maxClips"),
        ("image.pullPolicy=Sometimes", "/image/pullPolicy"),
        ("operator.concurrencyScope=planet", "/operator/concurrencyScope"),
        ("api.port=70000", "/api/port"),
        ("unknownKey=1", "unknownKey"),
    ],
)
def test_schema_rejects_bad_values(override, complaint):
    result = template("--set", override)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_minio_secret_is_generated_and_used():
    docs = render("--set", "minio.enabled=true")
    secret = by_kind(docs, "Secret")["vm-videomerge-s3"]
    assert set(secret["data"]) == {"accessKey", "secretKey"}
    minio = by_kind(docs, "Deployment")["vm-videomerge-minio"]["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in minio["env"] if "valueFrom" in e}
    assert refs == {"MINIO_ROOT_USER": "vm-videomerge-s3", "MINIO_ROOT_PASSWORD": "vm-videomerge-s3"}


def test_helm_test_hook_checks_the_api_health():
    (hook,) = [d for d in render() if d["kind"] == "Pod"]
    assert hook["metadata"]["annotations"]["helm.sh/hook"] == "test"
    env = env_of(hook["spec"]["containers"][0])
    assert env["API_URL"] == "http://vm-videomerge-api.media.svc:80"
    (local_hook,) = [d for d in render("-f", str(LOCAL_VALUES)) if d["kind"] == "Pod"]
    assert env_of(local_hook["spec"]["containers"][0])["API_URL"] == "http://127.0.0.1:8080"


def _api_container(docs: list[dict]) -> dict:
    return by_kind(docs, "Deployment")["vm-videomerge-api"]["spec"]["template"]["spec"]["containers"][0]


def test_api_auth_is_on_by_default_with_a_generated_admin_token():
    import base64
    import hashlib

    from videomerge_api.clients import parse_entry

    docs = render()
    secrets = by_kind(docs, "Secret")
    token = base64.b64decode(secrets["vm-videomerge-api-token"]["data"]["token"]).decode()
    assert len(token) >= 40
    entries = secrets["vm-videomerge-api-clients"]["data"]
    assert set(entries) == {"admin"}
    digest, client = parse_entry("admin", base64.b64decode(entries["admin"]).decode())
    assert client.name == "admin" and client.is_admin
    assert digest == hashlib.sha256(token.encode()).hexdigest() and token not in str(entries)
    container = _api_container(docs)
    env = env_of(container)
    assert env["VIDEOMERGE_API_AUTH_ENABLED"] == "true"
    assert env["VIDEOMERGE_API_AUTH_CLIENTS_DIR"] == "/etc/videomerge/clients"
    assert {"name": "clients", "mountPath": "/etc/videomerge/clients", "readOnly": True} in container[
        "volumeMounts"
    ]
    pod = by_kind(docs, "Deployment")["vm-videomerge-api"]["spec"]["template"]["spec"]
    assert {"name": "clients", "secret": {"secretName": "vm-videomerge-api-clients"}} in pod["volumes"]
    assert (env["VIDEOMERGE_API_RATE_LIMIT_PER_SECOND"], env["VIDEOMERGE_API_RATE_LIMIT_BURST"]) == (
        "10",
        "40",
    )
    assert env["VIDEOMERGE_API_QUOTA_MAX_ACTIVE_MERGES"] == "20"
    # Two renders (two installs) never share a token.
    again = by_kind(render(), "Secret")["vm-videomerge-api-token"]["data"]["token"]
    assert again != secrets["vm-videomerge-api-token"]["data"]["token"]


def test_api_without_auth_takes_an_explicit_value():
    docs = render("--set", "api.auth.enabled=false")
    assert not {"vm-videomerge-api-token", "vm-videomerge-api-clients"} & set(by_kind(docs, "Secret"))
    container = _api_container(docs)
    assert env_of(container)["VIDEOMERGE_API_AUTH_ENABLED"] == "false"
    assert "VIDEOMERGE_API_AUTH_CLIENTS_DIR" not in env_of(container)
    assert all(m["name"] != "clients" for m in container["volumeMounts"])


def test_api_clients_from_an_existing_secret():
    docs = render("--set", "api.auth.existingSecret=my-clients")
    assert not {"vm-videomerge-api-token", "vm-videomerge-api-clients"} & set(by_kind(docs, "Secret"))
    pod = by_kind(docs, "Deployment")["vm-videomerge-api"]["spec"]["template"]["spec"]
    assert {"name": "clients", "secret": {"secretName": "my-clients"}} in pod["volumes"]


def test_api_limits_and_metrics_port_are_values():
    docs = render(
        *("--set-json", "api.rateLimit.requestsPerSecond=2.5", "--set", "api.rateLimit.burst=5"),
        *("--set", "api.quota.maxActiveMerges=3", "--set", "api.metrics.port=9191"),
    )
    container = _api_container(docs)
    env = env_of(container)
    assert (env["VIDEOMERGE_API_RATE_LIMIT_PER_SECOND"], env["VIDEOMERGE_API_RATE_LIMIT_BURST"]) == (
        "2.5",
        "5",
    )
    assert (
        env["VIDEOMERGE_API_QUOTA_MAX_ACTIVE_MERGES"] == "3" and env["VIDEOMERGE_API_METRICS_PORT"] == "9191"
    )
    assert {"name": "metrics", "containerPort": 9191} in container["ports"]
    service = by_kind(docs, "Service")["vm-videomerge-api"]
    assert {"name": "metrics", "port": 9191, "targetPort": "metrics"} in service["spec"]["ports"]
    pod_annotations = by_kind(docs, "Deployment")["vm-videomerge-api"]["spec"]["template"]["metadata"]
    assert pod_annotations["annotations"]["prometheus.io/port"] == "9191"
    # The probes stay on the API port; metrics need no token on theirs.
    assert container["readinessProbe"]["httpGet"]["port"] == "http"


def test_api_role_reads_no_secrets():
    (api_role,) = [r for n, r in by_kind(render(), "Role").items() if n.endswith("-api")]
    assert all("secrets" not in rule["resources"] for rule in api_role["rules"])


@pytest.mark.parametrize(
    "values",
    [
        ["--set", "api.rateLimit.burst=0"],
        ["--set", "api.quota.maxActiveMerges=-1"],
        ["--set", "api.auth.enable=false"],
    ],
)
def test_schema_rejects_bad_api_limits(values):
    result = template(*values)
    assert result.returncode != 0


def test_api_service_monitor_scrapes_the_metrics_port():
    assert "ServiceMonitor" not in {d["kind"] for d in render()}
    docs = render("--set", "api.metrics.serviceMonitor.enabled=true")
    (monitor,) = by_kind(docs, "ServiceMonitor").values()
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    service = by_kind(docs, "Service")["vm-videomerge-api"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert "metrics" in {p["name"] for p in service["spec"]["ports"]}


def docs_named(docs: list[dict], kind: str, name: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]


def operator_container(docs: list[dict]) -> dict:
    return by_kind(docs, "Deployment")["vm-videomerge-operator"]["spec"]["template"]["spec"]["containers"][0]


def test_all_namespaces_mode_is_one_cluster_role():
    docs = render()
    (role,) = docs_named(docs, "ClusterRole", "vm-videomerge-operator")
    (binding,) = docs_named(docs, "ClusterRoleBinding", "vm-videomerge-operator")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "vm-videomerge-operator", "namespace": "media"}
    ]
    assert not docs_named(docs, "Role", "vm-videomerge-operator")
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    # Preparing new namespaces is part of it; kopf's CRD and namespace scanning is off, so no rights there.
    assert {"serviceaccounts", "roles", "rolebindings", "secrets"} <= resources
    assert not {"customresourcedefinitions", "namespaces", "nodes"} & resources


def test_listed_namespaces_get_a_role_each_and_nothing_cluster_wide():
    docs = render("--set", "operator.namespaces={team-a,team-b}")
    assert not docs_named(docs, "ClusterRole", "vm-videomerge-operator")
    assert not [d for d in docs if d["kind"] == "ClusterRoleBinding"]
    roles = {d["metadata"]["namespace"]: d for d in docs_named(docs, "Role", "vm-videomerge-operator")}
    bindings = {
        d["metadata"]["namespace"]: d for d in docs_named(docs, "RoleBinding", "vm-videomerge-operator")
    }
    assert set(roles) == set(bindings) == {"team-a", "team-b", "media"}, (
        "the release namespace is always watched"
    )
    for binding in bindings.values():
        assert binding["subjects"][0]["namespace"] == "media"
    env = env_of(operator_container(docs))
    assert env["VIDEOMERGE_OPERATOR_NAMESPACES"] == "team-a,team-b,media"
    # The chart makes the release namespace's worker objects; the operator prepares only the others.
    assert "serviceaccounts" not in str(roles["media"]["rules"])
    assert "serviceaccounts" in str(roles["team-a"]["rules"])
    no_prep = render("--set", "operator.namespaces={team-a}", "--set", "operator.prepareNamespaces=false")
    for role in docs_named(no_prep, "Role", "vm-videomerge-operator"):
        assert "secrets" not in str(role["rules"]) and "serviceaccounts" not in str(role["rules"])


@pytest.mark.parametrize("values", [[], ["--set", "operator.namespaces={team-a}"]], ids=["all", "listed"])
def test_the_operator_can_read_no_secret_and_run_no_pod_itself(values):
    docs = render(*values)
    rules = [
        rule
        for d in docs
        if d["kind"] in ("Role", "ClusterRole") and d["metadata"]["name"] == "vm-videomerge-operator"
        for rule in d["rules"]
    ]
    assert rules
    for rule in rules:
        if "secrets" in rule["resources"]:
            assert not {"get", "list", "watch", "*"} & set(rule["verbs"]), rule
            if "patch" in rule["verbs"]:  # a patch answers with the object: only the S3 Secret, by name
                assert rule["resourceNames"] == ["vm-videomerge-s3"], rule
        if "pods" in rule["resources"]:
            assert set(rule["verbs"]) == {"get", "list", "watch"}, "pods are made by Jobs, never directly"
        assert "pods/exec" not in rule["resources"] and "*" not in rule["verbs"], rule
        if {"roles", "rolebindings", "serviceaccounts"} & set(rule["resources"]) and "patch" in rule["verbs"]:
            assert rule["resourceNames"] == ["vm-videomerge-worker"], rule


def test_operator_gets_the_s3_credentials_by_reference():
    container = operator_container(render())
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in container["env"]
        if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]
    }
    assert refs["VIDEOMERGE_OPERATOR_S3_ACCESS_KEY_ID"] == {
        "name": "vm-videomerge-s3",
        "key": "accessKey",
        "optional": True,
    }
    assert refs["VIDEOMERGE_OPERATOR_S3_SECRET_ACCESS_KEY"]["key"] == "secretKey"


def test_pod_disruption_budgets():
    pdbs = by_kind(render(), "PodDisruptionBudget")
    assert set(pdbs) == {"vm-videomerge-operator", "vm-videomerge-api"}
    for name, pdb in pdbs.items():
        assert pdb["spec"]["maxUnavailable"] == 1
        assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == name.rsplit("-", 1)[1]
    off = render("--set", "api.pdb.enabled=false", "--set", "operator.pdb.enabled=false")
    assert not by_kind(off, "PodDisruptionBudget")


def test_metrics_service_and_optional_service_monitors():
    docs = render()
    service = by_kind(docs, "Service")["vm-videomerge-operator-metrics"]
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 8081, "targetPort": "http"}]
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "operator"
    assert not [d for d in docs if d["kind"] == "ServiceMonitor"]
    docs = render(
        "--set",
        "metrics.serviceMonitor.enabled=true",
        "--set",
        "metrics.serviceMonitor.labels.release=prom",
    )
    monitors = by_kind(docs, "ServiceMonitor")
    assert set(monitors) == {"vm-videomerge-operator", "vm-videomerge-api"}
    assert monitors["vm-videomerge-operator"]["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitors["vm-videomerge-api"]["metadata"]["labels"]["release"] == "prom"


def test_worker_jobs_get_pull_secrets_and_their_own_scheduling(monkeypatch):
    docs = render("--set", "imagePullSecrets[0].name=regcred",
        "--set", "worker.nodeSelector.pool=media",
        "--set", "worker.tolerations[0].key=media",
        "--set", "worker.tolerations[0].operator=Exists",
        "--set", "worker.priorityClassName=batch-low",
        "--set", "worker.podLabels.team=video",
    )  # fmt: skip
    env = env_of(operator_container(docs))
    from videomerge_operator.settings import OperatorSettings  # the operator parses what the chart renders

    for name, value in env.items():
        if name.startswith("VIDEOMERGE_OPERATOR_") and value is not None:
            monkeypatch.setenv(name, value)
    settings = OperatorSettings()
    assert settings.worker_image_pull_secrets == ["regcred"]
    assert settings.worker_node_selector == {"pool": "media"}
    assert settings.worker_tolerations == [{"key": "media", "operator": "Exists"}]
    assert settings.worker_priority_class_name == "batch-low"
    assert settings.worker_pod_labels == {"team": "video"}


def test_aggregated_cluster_roles_for_view_and_edit():
    roles = by_kind(render(), "ClusterRole")
    view, edit = roles["vm-videomerge-view"], roles["vm-videomerge-edit"]
    assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert set(view["rules"][0]["verbs"]) == {"get", "list", "watch"}
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert "videomerges/status" not in str(edit["rules"]), "users never write status"
    assert "vm-videomerge-view" not in by_kind(
        render("--set", "rbac.aggregateToDefaultRoles=false"), "ClusterRole"
    )


def test_global_values_of_a_parent_chart_are_accepted():
    render("--set", "global.imageRegistry=registry.example.com")


def test_extra_env_takes_value_from():
    docs = render("--set", "extraEnv.HTTPS_PROXY.valueFrom.secretKeyRef.name=proxy",
        "--set", "extraEnv.HTTPS_PROXY.valueFrom.secretKeyRef.key=url",
        "--set", "extraEnv.PLAIN=1",
    )  # fmt: skip
    for name in ("vm-videomerge-operator", "vm-videomerge-api"):
        container = by_kind(docs, "Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["HTTPS_PROXY"] == {
            "name": "HTTPS_PROXY",
            "valueFrom": {"secretKeyRef": {"name": "proxy", "key": "url"}},
        }
        assert env["PLAIN"] == {"name": "PLAIN", "value": "1"}


def test_pods_have_a_pod_security_context():
    for deployment in by_kind(render("--set", "minio.enabled=true"), "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["fsGroup"] == 10001, deployment["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True
