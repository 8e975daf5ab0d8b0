"""Each client sees only its own merges, through every route of both seeds; an admin sees all.

Another client's task answers exactly like one that does not exist: same status code, same body."""

import pytest
from api_unit_helpers import BODY, COMPLETED_STATUS, eventually

from videomerge_api.resources import NAME_PREFIX
from videomerge_contract.resource import ANNOTATION_OWNER, LABEL_OWNER

MISSING = NAME_PREFIX + "0" * 20


@pytest.fixture
def alice(make_client):
    return make_client(as_client="alice")


@pytest.fixture
def bob(make_client):
    return make_client(as_client="bob")


@pytest.fixture
def admin(make_client):
    return make_client(as_client="admin")


def seen(clients, task_id, phase=None):
    """Waits until every client's app (each has its own watch cache) holds the merge, in ``phase``."""
    for client in clients:
        cache = client.app.state.service.cache
        eventually(
            lambda c=cache: (
                (o := c.get(task_id)) is not None and (o.get("status") or {}).get("phase") == phase
            )
        )


@pytest.fixture
def alices_task(alice, bob, admin, store):
    task_id = alice.post("/api/v1/merge", json=BODY).json()["task_id"]
    store.patch_status(task_id, COMPLETED_STATUS)
    seen([alice, bob, admin], task_id, "Completed")
    return task_id


READS = [
    ("get", "/api/v1/merge/{id}/status"),
    ("get", "/api/v1/merge/{id}/result"),
    ("get", "/job-status/{id}"),
    ("delete", "/api/v1/merge/{id}"),
]


def _without_request_id(response):
    body = response.json()
    body.pop("request_id", None)
    return response.status_code, body


@pytest.mark.parametrize("method,path", READS)
def test_another_clients_merge_answers_like_a_missing_one(alice, bob, alices_task, method, path):
    theirs = bob.request(method, path.format(id=alices_task))
    missing = bob.request(method, path.format(id=MISSING))
    assert theirs.status_code == 404
    assert _without_request_id(theirs) == _without_request_id(missing)
    assert alices_task not in theirs.text
    assert alice.get(f"/api/v1/merge/{alices_task}/status").status_code == 200  # still there, untouched


def test_lists_hold_only_the_callers_merges(alice, bob, admin, alices_task):
    bobs = bob.post("/process", json=BODY).json()["job_id"]
    seen([alice, bob, admin], bobs)
    assert [i["task_id"] for i in alice.get("/api/v1/merge").json()["items"]] == [alices_task]
    assert [i["task_id"] for i in bob.get("/api/v1/merge").json()["items"]] == [bobs]
    assert {i["task_id"] for i in admin.get("/api/v1/merge").json()["items"]} == {alices_task, bobs}


def test_admin_reads_and_cancels_any_merge(alice, admin, alices_task, store):
    assert admin.get(f"/api/v1/merge/{alices_task}/result").json()["success"] is True
    assert admin.get(f"/job-status/{alices_task}").json()["status"] == "completed"
    assert admin.delete(f"/api/v1/merge/{alices_task}").status_code == 202
    eventually(lambda: alice.get(f"/api/v1/merge/{alices_task}/status").status_code == 404)


def test_a_merge_records_its_owner(alice, bob, store):
    task_id = bob.post("/process", json=BODY).json()["job_id"]
    metadata = store.get(task_id)["metadata"]
    assert metadata["labels"][LABEL_OWNER] == "bob" and metadata["annotations"][ANNOTATION_OWNER] == "bob"


def test_a_merge_without_owner_is_for_admins_only(alice, admin, store):
    from videomerge_api.resources import new_video_merge
    from videomerge_contract import MergeRequest

    obj = new_video_merge(
        "vm-kubectl", MergeRequest(video_urls=BODY["video_urls"]).to_spec().to_crd(), None, "x"
    )
    del obj["metadata"]["labels"][LABEL_OWNER]
    store.create(obj)
    seen([alice, admin], "vm-kubectl")
    assert admin.get("/api/v1/merge/vm-kubectl/status").status_code == 200
    assert alice.get("/api/v1/merge/vm-kubectl/status").status_code == 404
    assert alice.get("/api/v1/merge").json()["items"] == []


@pytest.mark.parametrize("path", ["/api/v1/merge", "/process"])
def test_idempotency_keys_are_scoped_per_client(alice, bob, path):
    key = {"Idempotency-Key": "order-7"}
    first = alice.post(path, json=BODY, headers=key)
    again = alice.post(path, json=BODY, headers=key)
    id_field = "task_id" if path == "/api/v1/merge" else "job_id"
    assert again.headers["idempotent-replayed"] == "true" and again.json()[id_field] == first.json()[id_field]
    # Bob's same key is another merge: no replay of Alice's, and no 409 naming it for another body.
    bobs = bob.post(path, json=BODY, headers=key)
    assert bobs.status_code == 202 and "idempotent-replayed" not in bobs.headers
    assert bobs.json()[id_field] != first.json()[id_field]
    other_body = bob.post(path, json={**BODY, "quality": "low"}, headers=key)
    assert other_body.status_code == 409 and first.json()[id_field] not in other_body.text


def test_process_waiting_sees_only_its_own(make_client, store):
    bob = make_client(as_client="bob", sync_timeout_seconds=0.3)
    assert bob.get(f"/job-status/{MISSING}").status_code == 404
