"""The console script as deployed: settings from the environment, uvicorn on loopback, access logs."""

import httpx
from api_kube_support import BODY, CLIENTS_DIR, COMPLETED, patch_status, wait_for
from api_server_process import ApiServer, free_loopback_port
from support.api_clients import CLIENT_TOKENS, bearer

from videomerge_api.clients import token_digest


def test_videomerge_api_serves_the_contract_and_logs_safely(kubeconfig, namespace, custom, tmp_path):
    metrics_port = free_loopback_port()
    with ApiServer(
        kubeconfig,
        namespace,
        tmp_path / "api.log",
        auth_clients_dir=str(CLIENTS_DIR),
        max_clips="3",
        metrics_port=str(metrics_port),
    ) as server:
        with httpx.Client(base_url=server.url, headers=bearer("alice"), timeout=10) as api:
            created = api.post("/api/v1/merge", json=BODY, headers={"x-request-id": "req-42"})
            assert created.status_code == 202 and created.headers["x-request-id"] == "req-42"
            task_id = created.json()["task_id"]
            assert (
                api.post("/api/v1/merge", json={"video_urls": [BODY["video_urls"][0]] * 4}).status_code == 422
            )
            patch_status(custom, namespace, task_id, COMPLETED)
            result = wait_for(
                lambda: (r := api.get(f"/api/v1/merge/{task_id}/result")).status_code == 200 and r,
                10,
                "the result",
            )
            assert "X-Amz-Signature" in result.json()["merged_url"]
            assert api.get("/api/v1/merge", params={"continue": "c2VjcmV0LXBhZ2U"}).status_code == 422
            assert httpx.get(f"{server.url}/api/v1/merge").status_code == 401
            assert httpx.get(f"{server.url}/metrics").status_code == 401
            # Metrics on their own port, without a token, for Prometheus.
            scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
            assert scraped.status_code == 200 and "videomerge_api_requests_total" in scraped.text
            docs = api.get("/openapi.json").json()
            assert docs["components"]["schemas"]["MergeRequest"]["properties"]["video_urls"]["maxItems"] == 3
        server.stop()
        # uvicorn re-raises the SIGTERM it handled once shutdown is done: -15 after a clean shutdown.
        assert server.process.returncode in (0, -15), server.logs()
        assert "Application shutdown complete" in server.logs()
    logs = server.logs()
    assert "request_id=req-42 method=POST path=/api/v1/merge " in logs and "status=202" in logs
    assert "cache synced" in logs
    assert "API clients loaded: 3 tokens of 3 clients" in logs
    for secret in (
        CLIENT_TOKENS["alice"],
        token_digest(CLIENT_TOKENS["alice"]),
        "X-Amz-Signature",
        "c2VjcmV0LXBhZ2U",
    ):
        assert secret not in logs, secret
