"""Per-client request rate: a token bucket per client name, in this replica's memory.

Each replica keeps its own buckets, so behind N replicas a client gets up to N times the rate (the Service
spreads connections). Buckets are few (one per client name) and tiny."""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second, self.burst = per_second, max(1, burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def acquire(self, client: str) -> float:
        """Takes one request's token: 0 when allowed, else the seconds until one is available."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                bucket = self._buckets[client] = _Bucket(tokens=float(self.burst), updated=now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.per_second)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.per_second


def retry_after_header(seconds: float) -> str:
    """Retry-After is whole seconds; round up so a client that obeys it is let in."""
    return str(max(1, math.ceil(seconds)))
