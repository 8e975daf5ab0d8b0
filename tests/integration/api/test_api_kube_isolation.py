"""Clients against the real API server: each sees only its own merges through every route of both seeds
(with the watch cache and with direct GETs), an admin sees all; quota and rate limits answer 429."""

import pytest
from api_kube_support import BODY, COMPLETED, count_merges, get_merge, patch_status, running_api, wait_for
from support.api_clients import bearer

from videomerge_contract.resource import ANNOTATION_OWNER, LABEL_OWNER

MISSING = "vm-00000000000000000000"
READS = [
    ("get", "/api/v1/merge/{id}/status"),
    ("get", "/api/v1/merge/{id}/result"),
    ("get", "/job-status/{id}"),
    ("delete", "/api/v1/merge/{id}"),
]


def _answer(response):
    body = response.json()
    body.pop("request_id", None)
    return response.status_code, body


@pytest.mark.parametrize("cache_enabled", [True, False], ids=["cache", "direct"])
def test_each_client_sees_only_its_own_merges(kubeconfig, namespace, custom, cache_enabled):
    with running_api(kubeconfig, namespace, cache_enabled=cache_enabled) as api:
        bob, admin = bearer("bob"), bearer("admin")
        mine = api.post("/api/v1/merge", json=BODY).json()["task_id"]
        job = api.post("/process", json={**BODY, "background": True}).json()["job_id"]
        patch_status(custom, namespace, mine, COMPLETED)
        wait_for(lambda: api.get(f"/api/v1/merge/{mine}/result").status_code == 200, 10, "the result")
        stored = get_merge(custom, namespace, mine)["metadata"]
        assert stored["labels"][LABEL_OWNER] == "alice" and stored["annotations"][ANNOTATION_OWNER] == "alice"

        for task_id in (mine, job):
            for method, path in READS:
                theirs = api.request(method, path.format(id=task_id), headers=bob)
                assert _answer(theirs) == _answer(
                    api.request(method, path.format(id=MISSING), headers=bob)
                ), path
                assert theirs.status_code == 404 and task_id not in theirs.text
        assert count_merges(custom, namespace) == 2  # bob's DELETEs deleted nothing
        assert "cancel" not in get_merge(custom, namespace, job)["spec"]  # nor cancelled anything
        # Lists come from the watch cache: wait until it has both, then Bob's must still be empty.
        wait_for(
            lambda: {i["task_id"] for i in api.get("/api/v1/merge").json()["items"]} == {mine, job},
            10,
            "Alice's list to hold both merges",
        )
        assert api.get("/api/v1/merge", headers=bob).json()["items"] == []
        assert {i["task_id"] for i in api.get("/api/v1/merge", headers=admin).json()["items"]} == {mine, job}
        wait_for(
            lambda: api.get(f"/job-status/{mine}", headers=admin).json()["status"] == "completed",
            10,
            "the admin to read Alice's completed merge",
        )

        # The same Idempotency-Key of another client is another merge, never a replay of Alice's.
        key = {"Idempotency-Key": "order-1"}
        first = api.post("/api/v1/merge", json=BODY, headers=key)
        bobs = api.post("/api/v1/merge", json=BODY, headers=key | bob)
        assert first.status_code == bobs.status_code == 202 and "idempotent-replayed" not in bobs.headers
        assert bobs.json()["task_id"] != first.json()["task_id"]
        conflict = api.post("/api/v1/merge", json={**BODY, "quality": "high"}, headers=key | bob)
        assert conflict.status_code == 409 and first.json()["task_id"] not in conflict.text

        cancelled = api.delete(f"/api/v1/merge/{job}", headers=admin)
        assert cancelled.status_code == 202 and cancelled.json()["removed"] is False
        assert get_merge(custom, namespace, job)["spec"]["cancel"] is True  # the admin's cancel
        assert api.delete(f"/api/v1/merge/{mine}", headers=admin).json()["removed"] is True
        wait_for(lambda: get_merge(custom, namespace, mine) is None, 10, "the admin's removal")


def test_quota_and_rate_limit_answer_429_with_retry_after(kubeconfig, namespace):
    with running_api(kubeconfig, namespace, quota_max_active_merges=2, quota_retry_after_seconds=9) as api:
        assert [api.post("/api/v1/merge", json=BODY).status_code for _ in range(2)] == [202, 202]
        over = api.post("/process", json=BODY)
        assert over.status_code == 429 and over.headers["retry-after"] == "9"
        assert over.json()["message"].startswith("quota: client 'alice' has 2 unfinished merges")
        assert api.post("/api/v1/merge", json=BODY, headers=bearer("bob")).status_code == 202
    with running_api(kubeconfig, namespace, rate_limit_per_second=0.2, rate_limit_burst=2) as api:
        answers = [api.get("/api/v1/merge") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[-1].headers["retry-after"] in ("4", "5")  # 1 token at 0.2/s, less what refilled
        assert "rate limit" in answers[-1].json()["message"]
        assert api.get("/api/v1/merge", headers=bearer("bob")).status_code == 200
