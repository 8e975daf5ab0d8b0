"""The API call threads: urgent calls first, the Lease never queued behind them, a connection per thread."""

import asyncio
import threading
import time

from op_factories import settings

from videomerge_operator.executor import PriorityExecutor
from videomerge_operator.kube import BACKGROUND, LEASE, NORMAL, URGENT, KubeApi, connection_pool_size
from videomerge_operator.leader import LeaderElector


def test_a_waiting_urgent_call_runs_before_earlier_waiting_ones():
    pool = PriorityExecutor(1, "test")
    gate = threading.Event()
    ran: list[str] = []
    pool.submit(gate.wait, 1)  # occupies the only thread while the others queue up
    futures = [pool.submit(lambda n=name: ran.append(n), p) for name, p in
               [("event", BACKGROUND), ("status", NORMAL), ("job-1", URGENT), ("job-2", URGENT)]]  # fmt: skip
    gate.set()
    for future in futures:
        future.result(timeout=5)
    assert ran == ["job-1", "job-2", "status", "event"]
    pool.shutdown()


def test_exceptions_reach_the_caller_and_shutdown_cancels_what_waits():
    pool = PriorityExecutor(1, "test")
    gate = threading.Event()
    pool.submit(gate.wait, 0)
    waiting = pool.submit(lambda: 1, 0)
    failing_after = pool.submit(lambda: 1 / 0, 0)
    pool.shutdown()
    gate.set()
    assert waiting.cancelled() and failing_after.cancelled()
    pool = PriorityExecutor(1, "test")
    try:
        pool.submit(lambda: 1 / 0, 0).result(timeout=5)
    except ZeroDivisionError:
        pass
    else:
        raise AssertionError("the exception was swallowed")
    pool.shutdown()


class BlockingApiClient:
    """Stands in for kubernetes.client.ApiClient: every call but the Lease's blocks until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def param_serialize(self, method, resource_path, **_):
        return method, resource_path, {}, None, None

    def call_api(self, method, url, **_):
        if "/leases/" not in url:
            self.release.wait(10)
        return type("Response", (), {"status": 200, "reason": "OK", "read": lambda self: b"{}"})()

    def close(self) -> None:
        pass


async def test_the_lease_is_renewed_while_every_other_thread_is_stuck():
    api_client = BlockingApiClient()
    kube = KubeApi(api_client, concurrency=2)
    stuck = [asyncio.ensure_future(kube.request("POST", "/jobs", {}, priority=URGENT)) for _ in range(5)]
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await asyncio.wait_for(kube.request("GET", "/apis/x/leases/l", priority=LEASE), 2)
    assert time.monotonic() - started < 1
    api_client.release.set()
    await asyncio.gather(*stuck)
    kube.close()


def test_the_connection_pool_covers_every_thread():
    assert connection_pool_size(16) == 16 + 1


class SlowLease:
    """A KubeApi whose Lease answers take ``delay`` seconds, like a saturated API server's."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.body = {"metadata": {"resourceVersion": "1"}, "spec": {"holderIdentity": "test-operator"}}

    async def request(self, method, path, body=None, **_):
        await asyncio.sleep(self.delay)
        if method == "PUT":
            self.body = body
        return self.body


async def test_a_slow_but_answering_api_server_does_not_cost_the_lease():
    s = settings(lease_duration_seconds=3, renew_deadline_seconds=2, retry_period_seconds=0.2)
    elector = LeaderElector(SlowLease(delay=0.3), s)  # a round trip (GET + PUT) takes 3 retry periods
    elector.leading = True
    holding = asyncio.ensure_future(elector.hold())
    await asyncio.sleep(3)
    assert not holding.done(), holding.exception() if holding.done() else None
    holding.cancel()
