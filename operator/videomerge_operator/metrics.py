"""Prometheus metrics of the operator (served on /metrics of the HTTP port)."""

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from videomerge_contract.enums import Phase


class OperatorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.merges = Gauge(
            "videomerge_operator_merges",
            "VideoMerges the operator follows, by phase (settled ones, labelled videomerge.io/settled, are not)",
            ["phase"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "videomerge_operator_queue_depth", "VideoMerges waiting for a slot", registry=r
        )
        self.running = Gauge(
            "videomerge_operator_running_jobs", "VideoMerges holding a worker slot", registry=r
        )
        self.leader = Gauge("videomerge_operator_leader", "1 while this replica holds the Lease", registry=r)
        self.jobs_created = Counter("videomerge_operator_jobs_created", "Worker Jobs created", registry=r)
        self.finished = Counter(
            "videomerge_operator_merges_finished",
            "Merges seen reaching a terminal phase",
            ["phase", "reason"],
            registry=r,
        )
        self.reconcile_errors = Counter(
            "videomerge_operator_reconcile_errors", "Failed reconcile operations", ["operation"], registry=r
        )
        self.deleted_by_retention = Counter(
            "videomerge_operator_retention_deleted",
            "Finished VideoMerges deleted by the retention sweep",
            registry=r,
        )
        self.creation_to_job = Histogram(
            "videomerge_operator_creation_to_job_seconds",
            "From first sight of a VideoMerge to its Job created (includes time spent queued)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        for phase in (*Phase, None):
            self.merges.labels(phase=_phase_label(phase))

    def set_phase_counts(self, counts: dict[Phase | None, int]) -> None:
        for phase in (*Phase, None):
            self.merges.labels(phase=_phase_label(phase)).set(counts.get(phase, 0))


LATENCY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)


def _phase_label(phase: Phase | None) -> str:
    return phase.value if phase else "New"
