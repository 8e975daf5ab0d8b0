"""The watch cache against the real API server: it follows changes, renews watches, survives 410 Gone."""

from api_kube_support import BODY, COMPLETED, patch_status, reads, running_api, sync_events, wait_for

from videomerge_api.store import WatchEvent


def test_reads_follow_status_changes_from_the_cache_without_gets(kubeconfig, namespace, custom):
    with running_api(kubeconfig, namespace) as api:
        task_id = api.post("/api/v1/merge", json=BODY).json()["task_id"]
        cache = api.app.state.service.cache
        wait_for(lambda: cache.get(task_id), 10, "the new merge in the cache")
        direct_before = reads(api, "direct")
        for progress in (10, 55, 90):
            patch_status(
                custom, namespace, task_id, {"phase": "Processing", "stage": "merging", "progress": progress}
            )
            wait_for(
                lambda p=progress: api.get(f"/api/v1/merge/{task_id}/status").json()["progress"] == p,
                10,
                f"progress {progress}",
            )
        custom.delete_namespaced_custom_object("videomerge.io", "v1alpha1", namespace, "videomerges", task_id)
        wait_for(lambda: cache.get(task_id) is None, 10, "the deletion in the cache")
        assert reads(api, "direct") == direct_before  # every read above came from the cache
        assert reads(api, "cache") >= 3


def test_cache_renews_watches_and_survives_a_watch_expiry(kubeconfig, namespace, custom):
    with running_api(kubeconfig, namespace, watch_timeout_seconds=2) as api:
        cache = api.app.state.service.cache
        task_id = api.post("/api/v1/merge", json=BODY).json()["task_id"]
        wait_for(lambda: cache.get(task_id), 10, "the new merge in the cache")
        wait_for(lambda: sync_events(api, "watch_renewed") >= 1, 10, "a watch renewed after its timeout")
        # Pretend an event was missed and the watch fell far behind: a resourceVersion long compacted out
        # of the API server's watch cache, so the next watch gets 410 Gone, and only a relist can repair.
        missed = cache.get(task_id)
        cache.apply(WatchEvent("DELETED", missed))
        cache.apply(WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": "1"}}))
        wait_for(lambda: sync_events(api, "relist_expired") >= 1, 15, "a relist after 410 Gone")
        wait_for(
            lambda: cache.synced and cache.get(task_id), 10, "the merge back in the cache after the relist"
        )
        assert int(cache.resource_version) > 1
        patch_status(custom, namespace, task_id, COMPLETED)
        wait_for(
            lambda: (cache.get(task_id) or {}).get("status"), 10, "the status patch through the new watch"
        )
        assert api.get(f"/api/v1/merge/{task_id}/result").status_code == 200
        assert api.get("/readyz").json()["cache_synced"] is True


def test_readiness_reports_the_synced_cache_and_reachable_api_server(kubeconfig, namespace):
    with running_api(kubeconfig, namespace) as api:
        ready = api.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "cache_synced": True,
            "api_server_reachable": True,
            "cached_merges": 0,
        }
        metrics = api.get("/metrics").text
        assert "videomerge_api_cache_synced 1.0" in metrics
