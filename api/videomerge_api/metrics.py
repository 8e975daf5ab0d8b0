"""Prometheus metrics of one app instance (its own registry, so several apps can live in one process)."""

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.requests = Counter(
            "videomerge_api_requests",
            "HTTP requests answered, by route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "videomerge_api_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.reads = Counter(
            "videomerge_api_reads",
            "VideoMerge reads by source: cache hit or a direct GET to the API server.",
            ["source"],
            registry=self.registry,
        )
        self.cache_syncs = Counter(
            "videomerge_api_cache_sync_events",
            "Cache synchronisation events: list, relist_expired, watch_renewed, error.",
            ["event"],
            registry=self.registry,
        )
        self.limited = Counter(
            "videomerge_api_limited_requests",
            "Requests refused with 429, by limit: rate (requests/s) or quota (active merges).",
            ["limit"],
            registry=self.registry,
        )
        self.cache_objects = Gauge(
            "videomerge_api_cache_objects", "VideoMerges held in the cache.", registry=self.registry
        )
        self.cache_synced = Gauge(
            "videomerge_api_cache_synced",
            "1 when the cache is synced with the API server.",
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # Label lookups cost more than the increments: keep the children (routes and codes are few).
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_cache(self, size: Callable[[], int], synced: Callable[[], bool]) -> None:
        """Cache gauges read at scrape time."""
        self.cache_objects.set_function(lambda: float(size()))
        self.cache_synced.set_function(lambda: 1.0 if synced() else 0.0)
