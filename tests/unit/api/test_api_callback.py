"""callback_url on both seeds' routes reaches spec.callbackUrl; the status body shows the delivery."""

import pytest
from api_unit_helpers import COMPLETED_STATUS, URL_A, create, eventually

HOOK = "https://hooks.example.com/videomerge?token=abc"


def test_merge_route_maps_callback_url_to_the_spec(client, store):
    task_id = create(client, {"video_urls": [URL_A], "callback_url": HOOK})
    assert store.get(task_id)["spec"]["callbackUrl"] == HOOK


def test_process_route_maps_callback_url_to_the_spec(client, store):
    response = client.post("/process", json={"video_urls": [URL_A], "callback_url": HOOK, "background": True})
    assert response.status_code == 202
    assert store.get(response.json()["job_id"])["spec"]["callbackUrl"] == HOOK


def test_without_callback_url_the_spec_has_none(client, store):
    task_id = create(client, {"video_urls": [URL_A]})
    assert "callbackUrl" not in store.get(task_id)["spec"]


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/x", "hooks.example.com/x", "http://a", "https://" + "a" * 2050]
)
def test_a_bad_callback_url_is_a_422_naming_the_field(client, url):
    response = client.post("/api/v1/merge", json={"video_urls": [URL_A], "callback_url": url})
    assert response.status_code == 422
    assert any(issue["loc"][-1] == "callback_url" for issue in response.json()["detail"])


def test_status_body_shows_the_webhook_delivery(client, store):
    task_id = create(client, {"video_urls": [URL_A], "callback_url": HOOK})
    notification = {
        "state": "Delivering",
        "attempts": 2,
        "lastError": "HTTP 503",
        "lastStatusCode": 503,
        "nextAttemptAt": "2026-01-01T12:00:20Z",
    }
    store.patch_status(task_id, {**COMPLETED_STATUS, "notification": notification})
    body = eventually(
        lambda: (r := client.get(f"/api/v1/merge/{task_id}/status").json()).get("notification") and r
    )
    assert body["notification"] == {
        "state": "delivering",
        "attempts": 2,
        "last_error": "HTTP 503",
        "last_status_code": 503,
        "next_attempt_at": "2026-01-01T12:00:20Z",
        "delivered_at": None,
    }


def test_status_body_without_a_callback_has_no_notification(client):
    task_id = create(client, {"video_urls": [URL_A]})
    assert client.get(f"/api/v1/merge/{task_id}/status").json()["notification"] is None


def test_job_status_shows_the_webhook_delivery(client, store):
    response = client.post("/process", json={"video_urls": [URL_A], "callback_url": HOOK})
    job_id = response.json()["job_id"]
    delivered = {
        "state": "Delivered",
        "attempts": 1,
        "deliveredAt": "2026-01-01T12:00:03Z",
        "lastStatusCode": 200,
    }
    store.patch_status(job_id, {**COMPLETED_STATUS, "notification": delivered})
    body = eventually(lambda: (r := client.get(f"/job-status/{job_id}").json()).get("notification") and r)
    assert body["notification"]["state"] == "delivered"
    assert body["notification"]["delivered_at"] == "2026-01-01T12:00:03Z"
