import kopf

from videomerge_operator.handlers import _at_service_host


def test_in_cluster_login_uses_the_service_host_from_the_environment(monkeypatch):
    info = kopf.ConnectionInfo(server="https://kubernetes.default.svc", token="t")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    assert _at_service_host(info).server == "https://127.0.0.1:6443"
    assert _at_service_host(info).token == "t"
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    assert _at_service_host(info).server == "https://[fd00::1]:6443"


def test_in_cluster_login_is_unchanged_without_a_service_host(monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    info = kopf.ConnectionInfo(server="https://kubernetes.default.svc", token="t")
    assert _at_service_host(info) is info
