"""Idempotency-Key: same key and body → same task; another body → 409; racing replicas meet."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from api_unit_helpers import BODY, URL_A

from videomerge_api import resources


def test_same_key_same_body_returns_the_same_task(client, store):
    first = client.post("/api/v1/merge", json=BODY, headers={"Idempotency-Key": "order-42"})
    again = client.post(
        "/api/v1/merge", json=dict(reversed(list(BODY.items()))), headers={"Idempotency-Key": "order-42"}
    )
    assert first.status_code == again.status_code == 202
    assert first.json()["task_id"] == again.json()["task_id"]
    assert "idempotent-replayed" not in first.headers and again.headers["idempotent-replayed"] == "true"
    assert len(store.list(10).items) == 1
    assert first.json()["task_id"] == resources.name_for_key(resources.key_digest("alice", "order-42"))


def test_same_key_other_body_is_409(client, store):
    first = client.post("/api/v1/merge", json=BODY, headers={"Idempotency-Key": "k"})
    other = client.post("/api/v1/merge", json={**BODY, "quality": "low"}, headers={"Idempotency-Key": "k"})
    assert other.status_code == 409
    assert other.json()["task_id"] == first.json()["task_id"] and "different body" in other.json()["message"]
    assert len(store.list(10).items) == 1


def test_keys_are_shared_by_process_and_merge_routes(client):
    first = client.post("/process", json=BODY, headers={"Idempotency-Key": "both"})
    again = client.post("/api/v1/merge", json=BODY, headers={"Idempotency-Key": "both"})
    assert first.json()["job_id"] == again.json()["task_id"]


def test_different_keys_and_no_key_create_new_tasks(client, store):
    ids = {
        client.post("/api/v1/merge", json=BODY, headers={"Idempotency-Key": k}).json()["task_id"]
        for k in "ab"
    }
    ids |= {client.post("/api/v1/merge", json=BODY).json()["task_id"] for _ in range(2)}
    assert len(ids) == 4 == len(store.list(10).items)


def test_a_cancelled_key_is_409_not_a_resurrection(client, store):
    task_id = client.post("/api/v1/merge", json=BODY, headers={"Idempotency-Key": "gone"}).json()["task_id"]
    with store._changed:
        store._objects[task_id]["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    response = client.post("/api/v1/merge", json=BODY, headers={"Idempotency-Key": "gone"})
    assert response.status_code == 409 and "cancelled" in response.json()["message"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\tkey", "ünïcode"])
def test_malformed_keys_are_422(client, key):
    response = client.post("/api/v1/merge", json=BODY, headers={"Idempotency-Key": key.encode()})
    assert response.status_code == 422 and response.json()["message"].startswith("Idempotency-Key:")


def test_racing_requests_with_one_key_create_one_merge(make_client, store):
    clients = [make_client(), make_client()]  # two replicas
    body = {"video_urls": [URL_A]}

    def post(i):
        return clients[i % 2].post("/api/v1/merge", json=body, headers={"Idempotency-Key": "race"})

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(post, range(16)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["task_id"] for r in responses}) == 1
    assert len(store.list(10).items) == 1
