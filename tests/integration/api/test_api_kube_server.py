"""The console script as deployed: settings from the environment, uvicorn on loopback, access logs."""

import httpx
from api_kube_support import BODY, COMPLETED, patch_status, wait_for
from api_server_process import ApiServer


def test_videomerge_api_serves_the_contract_and_logs_safely(kubeconfig, namespace, custom, tmp_path):
    with ApiServer(
        kubeconfig, namespace, tmp_path / "api.log", auth_tokens="tok-abc", max_clips="3"
    ) as server:
        auth = {"authorization": "Bearer tok-abc"}
        with httpx.Client(base_url=server.url, headers=auth, timeout=10) as api:
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
            docs = api.get("/openapi.json").json()
            assert docs["components"]["schemas"]["MergeRequest"]["properties"]["video_urls"]["maxItems"] == 3
        server.stop()
        # uvicorn re-raises the SIGTERM it handled once shutdown is done: -15 after a clean shutdown.
        assert server.process.returncode in (0, -15), server.logs()
        assert "Application shutdown complete" in server.logs()
    logs = server.logs()
    assert "request_id=req-42 method=POST path=/api/v1/merge " in logs and "status=202" in logs
    assert "cache synced" in logs
    for secret in ("tok-abc", "X-Amz-Signature", "c2VjcmV0LXBhZ2U"):
        assert secret not in logs, secret
