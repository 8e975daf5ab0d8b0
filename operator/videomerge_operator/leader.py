"""Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it.

Only the holder of the Lease runs kopf and the controller. Expiry is judged on this process's own monotonic
clock (from when it last saw the record change), never by comparing clocks across machines. The leader
renews every retry period and gives up when it has not renewed for ``renew_deadline``, which is shorter
than the lease duration: it has stopped acting before anyone else may take over.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from videomerge_operator.kube import LEASE, ApiError, KubeApi
from videomerge_operator.settings import OperatorSettings

log = logging.getLogger("videomerge_operator.leader")
LEASE_API: Final = "/apis/coordination.k8s.io/v1"


class LeadershipLostError(Exception):
    pass


@dataclass(frozen=True)
class LeaseRecord:
    holder: str
    duration_seconds: float
    transitions: int
    acquire_time: str | None
    renew_time: str | None


def lease_record(lease: dict[str, Any]) -> LeaseRecord:
    spec = lease.get("spec") or {}
    return LeaseRecord(
        holder=spec.get("holderIdentity") or "",
        duration_seconds=float(spec.get("leaseDurationSeconds") or 0),
        transitions=int(spec.get("leaseTransitions") or 0),
        acquire_time=spec.get("acquireTime"),
        renew_time=spec.get("renewTime"),
    )


def may_take(record: LeaseRecord, me: str, observed_at: float, now: float) -> bool:
    """Whether ``me`` may write the Lease: it holds it, nobody does, or the holder let it expire."""
    if not record.holder or record.holder == me:
        return True
    return observed_at + record.duration_seconds <= now


def claimed_spec(record: LeaseRecord | None, me: str, duration: float, wall: datetime) -> dict[str, Any]:
    """The Lease spec with ``me`` as holder, renewed at ``wall``; acquiring counts a transition."""
    stamp = wall.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    keeping = record is not None and record.holder == me
    transitions = (record.transitions if record else 0) + (0 if keeping or record is None else 1)
    return {
        "holderIdentity": me,
        "leaseDurationSeconds": max(1, round(duration)),
        "acquireTime": record.acquire_time if keeping and record else stamp,
        "renewTime": stamp,
        "leaseTransitions": transitions,
    }


class LeaderElector:
    def __init__(self, kube: KubeApi, settings: OperatorSettings) -> None:
        self.kube = kube
        self.me = settings.identity
        self.duration = settings.lease_duration_seconds
        self.renew_deadline = settings.renew_deadline_seconds
        self.retry = settings.retry_period_seconds
        self.path = f"{LEASE_API}/namespaces/{quote(settings.lease_namespace)}/leases"
        self.name = settings.lease_name
        self.namespace = settings.lease_namespace
        self.leading = False
        self.last_contact = 0.0  # monotonic time of the last successful API round trip
        self._observed: LeaseRecord | None = None
        self._observed_at = 0.0

    def healthy(self) -> bool:
        return time.monotonic() - self.last_contact < max(self.duration, 3 * self.retry)

    async def try_acquire_or_renew(self) -> bool:
        now = time.monotonic()
        try:
            lease = await self.kube.request("GET", f"{self.path}/{quote(self.name)}", priority=LEASE)
        except ApiError as error:
            if not error.not_found:
                raise
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": claimed_spec(None, self.me, self.duration, datetime.now(UTC)),
            }
            try:
                await self.kube.request("POST", self.path, body, priority=LEASE)
            except ApiError as create_error:
                if create_error.conflict:
                    return False
                raise
            self.last_contact = time.monotonic()
            return True
        self.last_contact = time.monotonic()
        record = lease_record(lease)
        if record != self._observed:
            self._observed, self._observed_at = record, now
        if not may_take(record, self.me, self._observed_at, now):
            return False
        lease["spec"] = claimed_spec(record, self.me, self.duration, datetime.now(UTC))
        try:  # the body carries the resourceVersion read: a concurrent writer makes this a 409
            await self.kube.request("PUT", f"{self.path}/{quote(self.name)}", lease, priority=LEASE)
        except ApiError as error:
            if error.conflict:
                return False
            raise
        self.last_contact = time.monotonic()
        return True

    async def acquire(self) -> None:
        """Returns once this replica holds the Lease."""
        log.info(
            "waiting for leadership", extra={"lease": f"{self.namespace}/{self.name}", "identity": self.me}
        )
        while True:
            try:
                if await self.try_acquire_or_renew():
                    self.leading = True
                    log.info("became leader", extra={"identity": self.me})
                    return
            except Exception as error:
                log.warning("lease check failed: %s", error)
            await asyncio.sleep(self.retry)

    async def hold(self) -> None:
        """Renews until it cannot for renew_deadline; then raises LeadershipLostError."""
        last_renewal = time.monotonic()
        while True:
            await asyncio.sleep(self.retry)
            # As client-go: an attempt may take until the renew deadline. Cutting it at the retry period
            # gave up on renewals that a busy API server was about to answer.
            remaining = last_renewal + self.renew_deadline - time.monotonic()
            try:
                renewed = await asyncio.wait_for(self.try_acquire_or_renew(), timeout=max(remaining, 0.01))
            except Exception as error:
                log.warning("lease renewal failed: %s", error)
                renewed = False
            if renewed:
                last_renewal = time.monotonic()
            elif time.monotonic() - last_renewal >= self.renew_deadline - self.retry:
                # The next attempt could only end after the deadline: stop acting now.
                self.leading = False
                raise LeadershipLostError(f"could not renew the lease for {self.renew_deadline}s")

    async def release(self) -> None:
        """Hands the Lease over at once (a graceful shutdown), so the standby does not wait for expiry."""
        if not self.leading:
            return
        self.leading = False
        try:
            lease = await self.kube.request("GET", f"{self.path}/{quote(self.name)}", priority=LEASE)
            if lease_record(lease).holder != self.me:
                return
            lease["spec"].update(holderIdentity=None, leaseDurationSeconds=1)
            await self.kube.request("PUT", f"{self.path}/{quote(self.name)}", lease, priority=LEASE)
            log.info("released the lease")
        except Exception as error:
            log.warning("could not release the lease: %s", error)
