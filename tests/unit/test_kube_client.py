"""The contract's one Kubernetes client set-up, used by the API, the operator and the worker."""

import yaml
from kubernetes import config

from videomerge_contract import kube_client


def write_kubeconfig(path, server):
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return path


def fake_in_cluster(monkeypatch, host):
    def load(client_configuration):
        client_configuration.host = host

    monkeypatch.setattr(config, "load_incluster_config", load)


def not_in_cluster(monkeypatch):
    def load(client_configuration):
        raise config.ConfigException("no service account")

    monkeypatch.setattr(config, "load_incluster_config", load)


def test_an_explicit_kubeconfig_wins(tmp_path, monkeypatch):
    fake_in_cluster(monkeypatch, "https://in-cluster:443")
    path = write_kubeconfig(tmp_path / "kc", "https://explicit:6443")
    assert kube_client.load_configuration(path).host == "https://explicit:6443"


def test_in_cluster_comes_before_kubeconfig_env(tmp_path, monkeypatch):
    fake_in_cluster(monkeypatch, "https://in-cluster:443")
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kc", "https://env:6443")))
    assert kube_client.load_configuration().host == "https://in-cluster:443"


def test_outside_a_pod_the_kubeconfig_env(tmp_path, monkeypatch):
    not_in_cluster(monkeypatch)
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kc", "https://env:6443")))
    assert kube_client.load_configuration().host == "https://env:6443"
    assert kube_client.load_configuration("").host == "https://env:6443"  # an empty setting is unset


def test_calls_get_a_timeout_unless_they_bring_one(tmp_path, monkeypatch):
    not_in_cluster(monkeypatch)
    api = kube_client.api_client(write_kubeconfig(tmp_path / "kc", "https://h:1"), pool_size=7, retries=1)
    assert api.configuration.connection_pool_maxsize == 7
    assert api.configuration.retries == 1
    seen = []
    monkeypatch.setattr(
        kube_client.client.ApiClient,
        "call_api",
        lambda self, *args, _request_timeout=None: seen.append(_request_timeout),
    )
    api.call_api("GET", "https://h:1/version")
    api.call_api("GET", "https://h:1/watch", _request_timeout=(5, 330))
    assert seen == [kube_client.DEFAULT_TIMEOUT, (5, 330)]
