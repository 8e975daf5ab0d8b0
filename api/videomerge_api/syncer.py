"""Keeps a MergeCache in step with the API server: list, watch from its resourceVersion, renew the watch
when the server ends it, list again on 410 Gone or after an error (with backoff). Runs in one thread."""

import logging
import threading

from videomerge_api.cache import MergeCache, essentials
from videomerge_api.metrics import ApiMetrics
from videomerge_api.store import MergeStore, StoreError, VideoMergeObject, WatchExpiredError, WatchStream
from videomerge_contract.memory import release_free_memory

log = logging.getLogger(__name__)
_RELIST_PAGE = 200  # a page of whole objects is held at once: up to ~120 KB each with 50 long clip URLs


class CacheSyncer:
    def __init__(
        self,
        store: MergeStore,
        cache: MergeCache,
        watch_timeout_seconds: int,
        metrics: ApiMetrics | None = None,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self._store, self._cache, self._metrics = store, cache, metrics
        self._watch_timeout = watch_timeout_seconds
        self._max_backoff = max_backoff_seconds
        self._stop = threading.Event()
        self._stream: WatchStream | None = None
        self._stream_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="videomerge-cache-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._stream_lock:
            if self._stream is not None:
                self._stream.close()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        backoff, need_list = 0.0, True
        while not self._stop.is_set():
            try:
                if need_list:
                    self._relist()
                    need_list = False
                self._watch_once()
                backoff = 0.0
            except WatchExpiredError:
                log.info("watch expired (410 Gone): listing again")
                self._count("relist_expired")
                need_list = True
            except Exception as exc:  # the thread must outlive any failure; it is the cache's only feed
                self._cache.mark_unsynced()
                need_list = True
                backoff = min(self._max_backoff, max(0.5, backoff * 2))
                if isinstance(exc, StoreError):
                    log.warning("cache sync failed (%s); retrying in %.1fs", exc, backoff)
                else:
                    log.exception("cache sync failed unexpectedly; retrying in %.1fs", backoff)
                self._count("error")
                self._stop.wait(backoff)

    def _relist(self, page_size: int = _RELIST_PAGE) -> None:
        # Each page is cut to its essentials as it comes: the whole namespace's specs are never held at once.
        page = self._store.list(limit=page_size)
        resource_version = page.resource_version
        items: list[VideoMergeObject] = [essentials(o) for o in page.items]
        while page.continue_token:
            page = self._store.list(limit=page_size, continue_token=page.continue_token)
            items.extend(essentials(o) for o in page.items)
        count = len(items)
        self._cache.replace(items, resource_version)
        del page, items
        release_free_memory()
        self._count("list")
        log.info("cache synced: %d VideoMerges at resourceVersion %s", count, resource_version)

    def _watch_once(self) -> None:
        stream = self._store.watch(self._cache.resource_version or "", self._watch_timeout)
        with self._stream_lock:
            if self._stop.is_set():
                stream.close()
                return
            self._stream = stream
        try:
            for event in stream:
                self._cache.apply(event)
        finally:
            with self._stream_lock:
                self._stream = None
            stream.close()
        self._count("watch_renewed")

    def _count(self, what: str) -> None:
        if self._metrics is not None:
            self._metrics.cache_syncs.labels(what).inc()
