"""Request models, their mapping to the VideoMerge spec, naming and hashing, list paging."""

import pytest
from api_unit_helpers import BODY, URL_A, URL_B
from pydantic import ValidationError

from videomerge_api import listing, resources
from videomerge_api.models import ProcessRequest
from videomerge_api.settings import ApiSettings
from videomerge_contract import API_VERSION, KIND, Limits, MergeRequest
from videomerge_contract.resource import ANNOTATION_IDEMPOTENCY_KEY, ANNOTATION_REQUEST_HASH


def test_process_request_is_the_merge_body_plus_background():
    body = ProcessRequest.model_validate({**BODY, "background": False})
    assert body.background is False
    assert body.to_spec().to_crd() == MergeRequest.model_validate(BODY).to_spec().to_crd()
    assert ProcessRequest.model_validate(BODY).background is True
    with pytest.raises(ValidationError):
        ProcessRequest.model_validate({**BODY, "backgroud": True})


def test_new_video_merge_carries_the_mapped_spec_and_hashes_not_the_key():
    spec = MergeRequest.model_validate(BODY).to_spec().to_crd()
    key_hash = resources.key_digest("alice", "my-secret-key")
    obj = resources.new_video_merge("vm-abc", spec, key_hash, "alice")
    assert obj["apiVersion"] == API_VERSION and obj["kind"] == KIND
    assert obj["spec"] == {
        "videoUrls": [URL_A, URL_B],
        "quality": "medium",
        "aspectRatio": "9:16",
        "fit": "pad",
    }
    annotations = obj["metadata"]["annotations"]
    assert annotations[ANNOTATION_IDEMPOTENCY_KEY] == key_hash
    assert "my-secret-key" not in str(obj)
    assert annotations[ANNOTATION_REQUEST_HASH] == resources.request_digest(spec)
    assert (
        ANNOTATION_IDEMPOTENCY_KEY
        not in resources.new_video_merge("vm-x", spec, None, "alice")["metadata"]["annotations"]
    )


def test_request_hash_ignores_key_order_and_explicit_defaults():
    explicit = MergeRequest.model_validate({**BODY, "fit": "pad"}).to_spec().to_crd()
    reordered = MergeRequest.model_validate(dict(reversed(list(BODY.items())))).to_spec().to_crd()
    other = MergeRequest.model_validate({**BODY, "quality": "low"}).to_spec().to_crd()
    assert resources.request_digest(explicit) == resources.request_digest(reordered)
    assert resources.request_digest(explicit) != resources.request_digest(other)


def test_names_are_dns_labels_and_keys_map_to_one_name():
    name = resources.random_name()
    assert resources.is_task_id(name) and name.startswith("vm-") and len(name) <= 63
    assert resources.random_name() != name
    digest = resources.key_digest("alice", "k1")
    assert resources.name_for_key(digest) == resources.name_for_key(resources.key_digest("alice", "k1"))
    assert resources.name_for_key(digest) != resources.name_for_key(resources.key_digest("alice", "k2"))
    assert resources.name_for_key(digest) != resources.name_for_key(resources.key_digest("bob", "k1"))


@pytest.mark.parametrize("bad", ["", "UPPER", "-x", "x-", "a/b", "a b", "x" * 254, "ä", "../etc"])
def test_is_task_id_rejects_what_cannot_name_a_resource(bad):
    assert not resources.is_task_id(bad)


def _obj(name: str, created: str, phase: str | None = None) -> dict:
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "status": {"phase": phase} if phase else {},
    }


def test_list_pages_newest_first_and_tokens_resume_after_the_last_item():
    objects = [
        _obj(f"vm-{i:02d}", f"2026-01-01T00:00:{i:02d}Z", "Processing" if i % 2 else None) for i in range(7)
    ]
    first, token = listing.page(objects, None, 3, None)
    assert [o["metadata"]["name"] for o in first] == ["vm-06", "vm-05", "vm-04"]
    second, token2 = listing.page(objects, None, 3, listing.decode_token(token))
    assert [o["metadata"]["name"] for o in second] == ["vm-03", "vm-02", "vm-01"]
    last, token3 = listing.page(objects, None, 3, listing.decode_token(token2))
    assert [o["metadata"]["name"] for o in last] == ["vm-00"] and token3 is None
    processing, _ = listing.page(objects, listing.RestStatus.PROCESSING, 10, None)
    assert [o["metadata"]["name"] for o in processing] == ["vm-05", "vm-03", "vm-01"]


@pytest.mark.parametrize("token", ["%%%", "bm90IGpzb24", "WzEsMl0", "WyJhIl0"])
def test_decode_token_rejects_foreign_tokens(token):
    with pytest.raises(listing.BadTokenError):
        listing.decode_token(token)


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VIDEOMERGE_API_NAMESPACE", "media")
    monkeypatch.setenv("VIDEOMERGE_API_MAX_CLIPS", "7")
    monkeypatch.setenv("VIDEOMERGE_API_AUTH_CLIENTS_DIR", "")
    monkeypatch.setenv("VIDEOMERGE_API_RATE_LIMIT_PER_SECOND", "2.5")
    monkeypatch.setenv("VIDEOMERGE_API_QUOTA_MAX_ACTIVE_MERGES", "3")
    settings = ApiSettings()
    assert (settings.namespace, settings.max_clips) == ("media", 7)
    assert settings.auth_enabled and settings.auth_clients_dir is None
    assert (settings.rate_limit_per_second, settings.quota_max_active_merges) == (2.5, 3)


@pytest.mark.parametrize(
    "field,value", [("max_clips", Limits.MAX_CLIPS + 1), ("max_clips", 0), ("namespace", "Bad_NS")]
)
def test_settings_refuse_values_beyond_the_contract(field, value):
    with pytest.raises(ValidationError):
        ApiSettings(**{field: value})


def test_status_bodies_are_rendered_once_per_resource_version():
    from videomerge_api.views import status_json

    obj = {
        "metadata": {"name": "vm-a", "uid": "u1", "resourceVersion": "5"},
        "status": {"phase": "Processing"},
    }
    first = status_json(obj)
    assert status_json(obj) is first  # same version: the stored rendering
    newer = {**obj, "metadata": {**obj["metadata"], "resourceVersion": "6"}, "status": {"phase": "Completed"}}
    assert b'"status":"completed"' in status_json(newer) and b'"status":"processing"' in first
    unversioned = {"metadata": {"name": "vm-b"}, "status": {}}
    assert status_json(unversioned) is not status_json(unversioned)  # nothing to key on: rendered each time
