"""The Helm chart lints, renders for every values file, and its schema rejects bad values."""

import subprocess
from pathlib import Path

import pytest
import yaml
from support.tools import ROOT, tool

CHART = ROOT / "charts" / "videomerge"
LOCAL_VALUES = CHART / "values-local.yaml"


@pytest.fixture(scope="module")
def helm() -> Path:
    return tool("helm")


def render(helm: Path, *args: str) -> list[dict]:
    out = subprocess.run(
        [str(helm), "template", "vm", str(CHART), "--namespace", "media", "--kube-version", "1.33.0", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def env_of(container: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


@pytest.mark.parametrize("values", [[], ["-f", str(LOCAL_VALUES)]], ids=["default", "local"])
def test_lint_passes(helm, values):
    result = subprocess.run([str(helm), "lint", str(CHART), *values], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_default_render_is_production_shaped(helm):
    docs = render(helm)
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == {"vm-videomerge-operator", "vm-videomerge-api", "vm-videomerge-notifier"}
    operator = deployments["vm-videomerge-operator"]["spec"]["template"]["spec"]
    assert "hostNetwork" not in operator
    container = operator["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    env = env_of(container)
    assert env["VIDEOMERGE_OPERATOR_NAMESPACES"] == "media"
    assert env["VIDEOMERGE_OPERATOR_WORKER_SERVICE_ACCOUNT"] == "vm-videomerge-worker"
    assert env["VIDEOMERGE_OPERATOR_S3_SECRET_NAME"] == "vm-videomerge-s3"
    assert env["VIDEOMERGE_OPERATOR_ALLOW_PRIVATE_URLS"] == "false"
    assert "VIDEOMERGE_OPERATOR_S3_ENDPOINT_URL" not in env  # empty values stay unset
    for d in docs:
        labels = d["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/part-of") == "videomerge", d["metadata"]["name"]
        assert labels.get("app.kubernetes.io/instance") == "vm"


def test_worker_role_is_least_privilege(helm):
    (role,) = [r for n, r in by_kind(render(helm), "Role").items() if n.endswith("-worker")]
    assert role["rules"] == [
        {"apiGroups": ["videomerge.io"], "resources": ["videomerges"], "verbs": ["get"]},
        {"apiGroups": ["videomerge.io"], "resources": ["videomerges/status"], "verbs": ["get", "patch"]},
    ]
    (api_role,) = [r for n, r in by_kind(render(helm), "Role").items() if n.endswith("-api")]
    assert "videomerges/status" not in str(api_role["rules"])


def test_local_values_keep_everything_on_loopback(helm):
    docs = render(helm, "-f", str(LOCAL_VALUES))
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
def test_schema_rejects_bad_values(helm, override, complaint):
    result = subprocess.run(
        [str(helm), "template", "vm", str(CHART), "--kube-version", "1.33.0", "--set", override],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert complaint in result.stderr


def test_minio_secret_is_generated_and_used(helm):
    docs = render(helm, "--set", "minio.enabled=true")
    secret = by_kind(docs, "Secret")["vm-videomerge-s3"]
    assert set(secret["data"]) == {"accessKey", "secretKey"}
    minio = by_kind(docs, "Deployment")["vm-videomerge-minio"]["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in minio["env"] if "valueFrom" in e}
    assert refs == {"MINIO_ROOT_USER": "vm-videomerge-s3", "MINIO_ROOT_PASSWORD": "vm-videomerge-s3"}


def test_helm_test_hook_checks_the_api_health(helm):
    (hook,) = [d for d in render(helm) if d["kind"] == "Pod"]
    assert hook["metadata"]["annotations"]["helm.sh/hook"] == "test"
    env = env_of(hook["spec"]["containers"][0])
    assert env["API_URL"] == "http://vm-videomerge-api.media.svc:80"
    (local_hook,) = [d for d in render(helm, "-f", str(LOCAL_VALUES)) if d["kind"] == "Pod"]
    assert env_of(local_hook["spec"]["containers"][0])["API_URL"] == "http://127.0.0.1:8080"


def _api_container(docs: list[dict]) -> dict:
    return by_kind(docs, "Deployment")["vm-videomerge-api"]["spec"]["template"]["spec"]["containers"][0]


def test_api_auth_is_on_by_default_with_a_generated_admin_token(helm):
    import base64
    import hashlib

    from videomerge_api.clients import parse_entry

    docs = render(helm)
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
    again = by_kind(render(helm), "Secret")["vm-videomerge-api-token"]["data"]["token"]
    assert again != secrets["vm-videomerge-api-token"]["data"]["token"]


def test_api_without_auth_takes_an_explicit_value(helm):
    docs = render(helm, "--set", "api.auth.enabled=false")
    assert not {"vm-videomerge-api-token", "vm-videomerge-api-clients"} & set(by_kind(docs, "Secret"))
    container = _api_container(docs)
    assert env_of(container)["VIDEOMERGE_API_AUTH_ENABLED"] == "false"
    assert "VIDEOMERGE_API_AUTH_CLIENTS_DIR" not in env_of(container)
    assert all(m["name"] != "clients" for m in container["volumeMounts"])


def test_api_clients_from_an_existing_secret(helm):
    docs = render(helm, "--set", "api.auth.existingSecret=my-clients")
    assert not {"vm-videomerge-api-token", "vm-videomerge-api-clients"} & set(by_kind(docs, "Secret"))
    pod = by_kind(docs, "Deployment")["vm-videomerge-api"]["spec"]["template"]["spec"]
    assert {"name": "clients", "secret": {"secretName": "my-clients"}} in pod["volumes"]


def test_api_limits_and_metrics_port_are_values(helm):
    docs = render(
        helm,
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


def test_api_role_reads_no_secrets(helm):
    (api_role,) = [r for n, r in by_kind(render(helm), "Role").items() if n.endswith("-api")]
    assert all("secrets" not in rule["resources"] for rule in api_role["rules"])


@pytest.mark.parametrize(
    "values",
    [
        ["--set", "api.rateLimit.burst=0"],
        ["--set", "api.quota.maxActiveMerges=-1"],
        ["--set", "api.auth.enable=false"],
    ],
)
def test_schema_rejects_bad_api_limits(helm, values):
    result = subprocess.run(
        [str(helm), "template", "vm", str(CHART), "--kube-version", "1.33.0", *values],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0


def test_api_service_monitor_scrapes_the_metrics_port(helm):
    assert "ServiceMonitor" not in {d["kind"] for d in render(helm)}
    docs = render(helm, "--set", "api.metrics.serviceMonitor.enabled=true")
    (monitor,) = by_kind(docs, "ServiceMonitor").values()
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    service = by_kind(docs, "Service")["vm-videomerge-api"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert "metrics" in {p["name"] for p in service["spec"]["ports"]}
