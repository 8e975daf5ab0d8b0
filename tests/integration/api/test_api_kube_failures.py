"""An unreachable API server is 503 with Retry-After (never 500); auth is enforced in front of it."""

import pytest
from api_kube_support import BODY, CLIENTS_DIR, count_merges, running_api, unreachable_kubeconfig
from fastapi.testclient import TestClient
from support.api_clients import bearer

from videomerge_api.app import create_app
from videomerge_api.settings import ApiSettings


@pytest.mark.parametrize(
    "method,path",
    [
        ("post", "/api/v1/merge"),
        ("post", "/process"),
        ("get", "/api/v1/merge/vm-1/status"),
        ("get", "/api/v1/merge/vm-1/result"),
        ("get", "/job-status/vm-1"),
        ("get", "/api/v1/merge"),
        ("delete", "/api/v1/merge/vm-1"),
    ],
)
def test_api_server_unreachable_is_503_with_retry_after(kubeconfig, tmp_path, method, path):
    settings = ApiSettings(
        kubeconfig=unreachable_kubeconfig(kubeconfig, tmp_path),
        kube_timeout_seconds=2,
        auth_clients_dir=CLIENTS_DIR,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False, headers=bearer("alice")) as api:
        response = api.request(method, path, json=BODY if method == "post" else None)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        assert "cannot be reached" in response.json()["message"] and "127.0.0.1" not in response.text
        ready = api.get("/readyz")
        assert ready.status_code == 503 and ready.json()["api_server_reachable"] is False
        assert api.get("/healthz").status_code == 200


def test_bearer_auth_in_front_of_the_real_api_server(kubeconfig, namespace, custom):
    with running_api(kubeconfig, namespace, as_client=None) as api:
        assert api.post("/api/v1/merge", json=BODY).status_code == 401
        assert api.get("/api/v1/merge", headers={"authorization": "Bearer nope"}).status_code == 401
        assert count_merges(custom, namespace) == 0
        ok = api.post("/api/v1/merge", json=BODY, headers=bearer("alice"))
        assert ok.status_code == 202 and count_merges(custom, namespace) == 1
        assert api.get("/readyz").status_code == 200
