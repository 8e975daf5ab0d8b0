"""The chart's webhook notifier: its own least-privilege identity, the signing secret as a file."""

import base64

import pytest
from support.chart import LOCAL_VALUES, render, template
from test_chart import by_kind, env_of


def _notifier_pod(docs):
    return by_kind(docs, "Deployment")["vm-videomerge-notifier"]["spec"]["template"]["spec"]


def test_notifier_may_only_read_merges_patch_their_status_and_record_events():
    docs = render()
    role = by_kind(docs, "ClusterRole")["vm-videomerge-notifier"]
    assert role["rules"] == [
        {"apiGroups": ["videomerge.io"], "resources": ["videomerges"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["videomerge.io"], "resources": ["videomerges/status"], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
    ]
    binding = by_kind(docs, "ClusterRoleBinding")["vm-videomerge-notifier"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "vm-videomerge-notifier", "namespace": "media"}
    ]
    assert _notifier_pod(docs)["serviceAccountName"] == "vm-videomerge-notifier"


def test_signing_secret_is_generated_as_whsec_and_mounted_as_a_file():
    docs = render()
    secret = base64.b64decode(by_kind(docs, "Secret")["vm-videomerge-webhook"]["data"]["secret"]).decode()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    pod = _notifier_pod(docs)
    (container,) = pod["containers"]
    assert container["command"] == ["videomerge-notifier"] and pod.get("replicas") is None
    env = env_of(container)
    assert env["VIDEOMERGE_NOTIFIER_SECRET_FILE"] == "/etc/videomerge/webhook/secret"
    assert env["VIDEOMERGE_NOTIFIER_RETRY_FOR_SECONDS"] == "86400"
    assert env["VIDEOMERGE_NOTIFIER_ALLOW_PRIVATE_URLS"] == "false"
    assert "VIDEOMERGE_NOTIFIER_NAMESPACES" not in env  # every namespace, as the operator watches
    assert env["VIDEOMERGE_NOTIFIER_HTTP_PORT"] == "8082"
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    (volume,) = pod["volumes"]
    assert volume["secret"] == {
        "secretName": "vm-videomerge-webhook",
        "items": [{"key": "secret", "path": "secret"}],
    }
    assert all("valueFrom" not in e or "secretKeyRef" not in e["valueFrom"] for e in container["env"])
    deployment = by_kind(docs, "Deployment")["vm-videomerge-notifier"]["spec"]
    assert deployment["replicas"] == 1 and deployment["strategy"] == {"type": "Recreate"}


def test_an_existing_secret_is_used_instead():
    docs = render("--set", "notifier.existingSecret=my-hooks", "--set", "notifier.existingSecretKey=key")
    assert "vm-videomerge-webhook" not in by_kind(docs, "Secret")
    (volume,) = _notifier_pod(docs)["volumes"]
    assert volume["secret"] == {"secretName": "my-hooks", "items": [{"key": "key", "path": "secret"}]}


def test_disabled_notifier_renders_nothing():
    docs = render("--set", "notifier.enabled=false")
    assert not [d for d in docs if d["metadata"]["name"].endswith(("-notifier", "-webhook"))]


def test_local_values_allow_loopback_receivers():
    env = env_of(_notifier_pod(render("-f", str(LOCAL_VALUES)))["containers"][0])
    assert env["VIDEOMERGE_NOTIFIER_ALLOW_PRIVATE_URLS"] == "true"
    assert env["VIDEOMERGE_NOTIFIER_HTTP_HOST"] == "127.0.0.1"  # host network: probes stay on loopback


@pytest.mark.parametrize(
    "override", ["notifier.concurrency=0", "notifier.retryForSeconds=0", "notifier.attemptTimeoutSeconds=-1"]
)
def test_schema_rejects_bad_notifier_values(override):
    result = template("--set", override)
    assert result.returncode != 0 and "/notifier/" in result.stderr
