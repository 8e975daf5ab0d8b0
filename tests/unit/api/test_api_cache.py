"""The cache's event handling (pure) and the syncer that feeds it from a store."""

import json
import threading

import pytest
from api_unit_helpers import COMPLETED_STATUS, eventually

from videomerge_api.cache import MergeCache
from videomerge_api.metrics import ApiMetrics
from videomerge_api.resources import new_video_merge
from videomerge_api.store import UnavailableError, WatchEvent, WatchExpiredError, parse_watch_line
from videomerge_api.store_memory import MemoryMergeStore
from videomerge_api.syncer import CacheSyncer

SPEC = {"videoUrls": ["https://example.com/a.mp4"]}


def obj(name: str, rv: str, phase: str | None = None) -> dict:
    return {"metadata": {"name": name, "resourceVersion": rv}} | (
        {"status": {"phase": phase}} if phase else {}
    )


def test_replace_makes_the_list_the_whole_truth_and_marks_synced():
    cache = MergeCache()
    assert not cache.synced and cache.get("a") is None
    cache.apply(WatchEvent("ADDED", obj("stale", "1")))
    cache.replace([obj("a", "5"), obj("b", "6")], "7")
    assert cache.synced and cache.resource_version == "7" and len(cache) == 2
    assert cache.get("stale") is None and cache.get("a") == obj("a", "5")


def test_only_what_reads_need_is_cached():
    full = {
        "metadata": {
            "name": "a",
            "uid": "u",
            "resourceVersion": "3",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"videomerge.io/owner": "alice", "app.kubernetes.io/name": "videomerge"},
            "annotations": {"videomerge.io/request-hash": "h" * 64},
            "managedFields": [{"manager": "api"}],
        },
        "spec": {"videoUrls": ["https://example.com/" + "x" * 2000] * 50},
        "status": {"phase": "Completed", "progress": 100, "conditions": [{"type": "Complete"}] * 3},
    }
    cache = MergeCache()
    cache.replace([full], "3")
    assert cache.get("a") == {
        "metadata": {
            "name": "a",
            "uid": "u",
            "resourceVersion": "3",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"videomerge.io/owner": "alice"},
        },
        "status": {"phase": "Completed", "progress": 100},
    }


def test_events_add_modify_delete_and_move_the_resource_version():
    cache = MergeCache()
    cache.replace([], "1")
    cache.apply(WatchEvent("ADDED", obj("a", "2")))
    cache.apply(WatchEvent("MODIFIED", obj("a", "3", "Processing")))
    assert cache.get("a")["status"]["phase"] == "Processing" and cache.resource_version == "3"
    cache.apply(WatchEvent("DELETED", obj("a", "4")))
    assert cache.get("a") is None and cache.resource_version == "4"
    cache.apply(WatchEvent("DELETED", obj("never-seen", "5")))  # harmless
    cache.apply(WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": "9"}}))
    assert cache.resource_version == "9" and len(cache) == 0


def test_listeners_hear_changed_names_only_until_removed():
    cache = MergeCache()
    heard: list[str] = []
    remove = cache.add_listener(heard.append)
    cache.replace([obj("a", "1"), obj("b", "1")], "1")
    cache.replace([obj("a", "1"), obj("c", "2")], "2")  # b gone, c new, a unchanged
    cache.apply(WatchEvent("MODIFIED", obj("a", "3")))
    cache.apply(WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": "4"}}))
    remove()
    cache.apply(WatchEvent("MODIFIED", obj("a", "5")))
    assert sorted(heard[:2]) == ["a", "b"] and sorted(heard[2:4]) == ["b", "c"] and heard[4:] == ["a"]


def test_mark_unsynced_keeps_objects_until_the_next_list():
    cache = MergeCache()
    cache.replace([obj("a", "1")], "1")
    cache.mark_unsynced()
    assert not cache.synced and cache.get("a") is not None


def test_parse_watch_line():
    event = parse_watch_line(json.dumps({"type": "ADDED", "object": obj("a", "3")}))
    assert (event.type, event.name, event.resource_version) == ("ADDED", "a", "3")
    gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version"}}
    with pytest.raises(WatchExpiredError):
        parse_watch_line(json.dumps(gone))
    with pytest.raises(UnavailableError):
        parse_watch_line(json.dumps({"type": "ERROR", "object": {"code": 500, "message": "boom"}}))
    for bad in (b"not json", b"{}", b'{"type": "ADDED", "object": []}'):
        with pytest.raises(UnavailableError):
            parse_watch_line(bad)


@pytest.fixture
def synced():
    store, cache, metrics = MemoryMergeStore(), MergeCache(), ApiMetrics()
    store.create(new_video_merge("vm-before", SPEC, None, "alice"))
    syncer = CacheSyncer(store, cache, watch_timeout_seconds=1, metrics=metrics, max_backoff_seconds=0.2)
    syncer.start()
    eventually(lambda: cache.synced)
    eventually(lambda: store.calls["watch"] >= 1)  # the watch is open: later changes reach it, not the list
    yield store, cache, metrics
    syncer.stop()
    assert not any(t.name == "videomerge-cache-sync" and t.is_alive() for t in threading.enumerate())


def syncs(metrics: ApiMetrics, event: str) -> float:
    return metrics.registry.get_sample_value("videomerge_api_cache_sync_events_total", {"event": event}) or 0


def test_syncer_lists_then_follows_changes(synced):
    store, cache, _ = synced
    assert cache.get("vm-before") is not None
    store.create(new_video_merge("vm-after", SPEC, None, "alice"))
    store.patch_status("vm-after", COMPLETED_STATUS)
    eventually(lambda: (cache.get("vm-after") or {}).get("status", {}).get("phase") == "Completed")
    store.delete("vm-before")
    eventually(lambda: cache.get("vm-before") is None)


def test_syncer_renews_a_watch_the_server_ended(synced):
    store, cache, metrics = synced
    eventually(lambda: syncs(metrics, "watch_renewed") >= 1, timeout=4)  # watch_timeout_seconds=1
    store.create(new_video_merge("vm-later", SPEC, None, "alice"))
    eventually(lambda: cache.get("vm-later") is not None)
    assert syncs(metrics, "list") == 1


def test_syncer_relists_after_watch_expiry_and_misses_nothing(synced):
    store, cache, metrics = synced
    store.expire_history()
    store.create(new_video_merge("vm-during", SPEC, None, "alice"))  # changes around the expiry still arrive
    eventually(lambda: syncs(metrics, "relist_expired") >= 1)
    eventually(lambda: cache.get("vm-during") is not None and cache.synced)
    assert syncs(metrics, "list") >= 2
    store.create(new_video_merge("vm-after-relist", SPEC, None, "alice"))
    eventually(lambda: cache.get("vm-after-relist") is not None)


def test_syncer_marks_unsynced_while_the_api_server_is_away_and_recovers(synced):
    store, cache, metrics = synced
    store.unavailable = True
    store.expire_history()  # wakes the open watch, which now meets the outage
    eventually(lambda: not cache.synced)
    assert cache.get("vm-before") is not None  # kept, not trusted
    store.unavailable = False
    store.create(new_video_merge("vm-back", SPEC, None, "alice"))
    eventually(lambda: cache.synced and cache.get("vm-back") is not None)
    assert syncs(metrics, "error") >= 1


def test_syncer_survives_an_unexpected_error_in_its_thread():
    store, cache, metrics = MemoryMergeStore(), MergeCache(), ApiMetrics()
    real_watch, failures = store.watch, []

    def flaky_watch(resource_version, timeout_seconds):
        if not failures:
            failures.append(1)
            raise RuntimeError("a bug in a client library")
        return real_watch(resource_version, timeout_seconds)

    store.watch = flaky_watch
    syncer = CacheSyncer(store, cache, watch_timeout_seconds=1, metrics=metrics, max_backoff_seconds=0.2)
    syncer.start()
    try:
        eventually(lambda: failures and cache.synced)
        store.create(new_video_merge("vm-later", SPEC, None, "alice"))
        eventually(lambda: cache.get("vm-later") is not None)
        assert syncs(metrics, "error") == 1
    finally:
        syncer.stop()
