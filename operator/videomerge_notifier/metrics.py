"""Prometheus metrics of the notifier (served with /healthz and /readyz on ``http_port``)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.attempts = Counter(
            "videomerge_notifier_attempts",
            "Webhook attempts by what followed: delivered, retry, given_up",
            ["outcome"],
            registry=r,
        )
        self.attempt_seconds = Histogram(
            "videomerge_notifier_attempt_seconds",
            "Duration of one webhook attempt",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
            registry=r,
        )
        self.owed = Gauge("videomerge_notifier_owed", "Webhooks waiting to be (re)sent", registry=r)
        self.in_flight = Gauge("videomerge_notifier_in_flight", "Webhook attempts in flight", registry=r)
