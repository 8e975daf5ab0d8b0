"""The delivery loop with real receivers on loopback and an in-memory stand-in for the API server."""

import asyncio
import base64
import copy
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from notifier_objects import merge as merge_at
from support.webhook_receiver import WebhookReceiver

from videomerge_notifier.notifier import Notifier
from videomerge_notifier.settings import NotifierSettings
from videomerge_operator.kube import ApiError


def merge(name: str, **kwargs: Any) -> dict[str, Any]:
    """A merge that finished just now (the retry window counts from its completionTime)."""
    obj = merge_at(name, **kwargs)
    obj["status"]["completionTime"] = datetime.now(UTC).isoformat()
    return obj


SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()


class FakeKube:
    """Keeps VideoMerges in a dict; status patches merge into them as the API server does."""

    def __init__(self) -> None:
        self.merges: dict[tuple[str, str], dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.merges[(obj["metadata"]["namespace"], obj["metadata"]["name"])] = obj
        return obj

    async def patch_merge_status(self, namespace, name, status, resource_version):
        obj = self.merges.get((namespace, name))
        if obj is None:
            raise ApiError(404, "Not Found", "{}")
        obj["status"].update(copy.deepcopy(status))
        return copy.deepcopy(obj)

    async def create_event(self, namespace, event):
        self.events.append(event)

    def notification(self, name: str) -> dict[str, Any]:
        return self.merges[("ns", name)]["status"].get("notification") or {}


@pytest.fixture
def receiver():
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def settings(tmp_path) -> NotifierSettings:
    (tmp_path / "secret").write_text(SECRET)
    return NotifierSettings(
        secret_file=str(tmp_path / "secret"),
        allow_private_urls=True,
        backoff_initial_seconds=0.2,
        backoff_max_seconds=1,
        connect_timeout_seconds=1,
        read_timeout_seconds=5,
        attempt_timeout_seconds=1.5,
        concurrency=4,
    )


class Running:
    """A notifier delivering (no watch threads: the test feeds it objects), stopped on exit."""

    def __init__(self, settings: NotifierSettings, kube: FakeKube) -> None:
        self.notifier = Notifier(settings, kube, api_client=None, rng=random.Random(5))  # type: ignore[arg-type]

    async def __aenter__(self) -> Notifier:
        self.task = asyncio.create_task(self.notifier.run(watch=False))
        return self.notifier

    async def __aexit__(self, *exc: object) -> None:
        self.notifier.shutdown()
        await self.task


async def until(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_fails_twice_then_delivered_with_an_event_per_failure(settings, receiver):
    kube = FakeKube()
    obj = kube.add(merge("vm-a", callback=receiver.url("a", fail=2)))
    async with Running(settings, kube) as notifier:
        notifier.observe(copy.deepcopy(obj))
        await until(lambda: kube.notification("vm-a").get("state") == "Delivered")
    posts = receiver.to("a")
    assert [p.answered for p in posts] == [500, 500, 204]
    assert len({p.headers["webhook-id"] for p in posts}) == 1, "one webhook-id across retries"
    assert kube.notification("vm-a")["attempts"] == 3
    reasons = [e["reason"] for e in kube.events]
    assert reasons == ["WebhookAttemptFailed", "WebhookAttemptFailed", "WebhookDelivered"]
    assert "attempt 1: HTTP 500; next attempt in" in kube.events[0]["message"]


async def test_a_hanging_receiver_is_retried_and_holds_nothing_else_back(settings, receiver):
    kube = FakeKube()
    hanging = kube.add(merge("vm-hang", callback=receiver.url("hang", hang=True)))
    quick = [kube.add(merge(f"vm-{i}", callback=receiver.url(f"q{i}"))) for i in range(3)]
    async with Running(settings, kube) as notifier:
        notifier.observe(copy.deepcopy(hanging))
        await until(lambda: len(receiver.to("hang")) == 1)
        started = asyncio.get_running_loop().time()
        for obj in quick:
            notifier.observe(copy.deepcopy(obj))
        await until(lambda: all(kube.notification(f"vm-{i}").get("state") == "Delivered" for i in range(3)))
        assert asyncio.get_running_loop().time() - started < 1.0, "deliveries waited for the hanging one"
        await until(lambda: kube.notification("vm-hang").get("attempts", 0) >= 2, timeout=10)
    first = kube.merges[("ns", "vm-hang")]["status"]["notification"]
    assert first["state"] in ("Delivering", "Failed") and "no answer within 1.5 s" in first["lastError"]


async def test_a_refused_address_fails_with_a_clear_last_error(settings, receiver):
    kube = FakeKube()
    obj = kube.add(merge("vm-private", callback=receiver.url("p")))
    async with Running(settings.model_copy(update={"allow_private_urls": False}), kube) as notifier:
        notifier.observe(copy.deepcopy(obj))
        await until(lambda: kube.notification("vm-private").get("state") == "Failed")
    note = kube.notification("vm-private")
    assert note["attempts"] == 1
    assert note["lastError"].startswith("callback URL refused: 127.0.0.1 ")
    assert receiver.posts == [] and kube.events[-1]["reason"] == "WebhookFailed"


async def test_a_new_process_resumes_from_the_status(settings, receiver):
    kube = FakeKube()
    obj = kube.add(merge("vm-r", callback=receiver.url("r", fail=1)))
    async with Running(settings.model_copy(update={"backoff_initial_seconds": 60}), kube) as notifier:
        notifier.observe(copy.deepcopy(obj))
        await until(lambda: kube.notification("vm-r").get("attempts") == 1)
    assert kube.notification("vm-r")["state"] == "Delivering"
    # The next attempt is due in ~a minute; a new process sees it in the status, not in its memory.
    kube.merges[("ns", "vm-r")]["status"]["notification"]["nextAttemptAt"] = "2020-01-01T00:00:00Z"
    async with Running(settings, kube) as restarted:
        restarted.observe(copy.deepcopy(kube.merges[("ns", "vm-r")]))
        await until(lambda: kube.notification("vm-r").get("state") == "Delivered")
    assert kube.notification("vm-r")["attempts"] == 2 and len(receiver.to("r")) == 2


async def test_gives_up_after_the_retry_window(settings, receiver):
    kube = FakeKube()
    obj = kube.add(merge("vm-w", callback=receiver.url("w", status=500)))
    async with Running(settings.model_copy(update={"retry_for_seconds": 1.0}), kube) as notifier:
        notifier.observe(copy.deepcopy(obj))
        await until(lambda: kube.notification("vm-w").get("state") == "Failed")
    note = kube.notification("vm-w")
    assert note["lastError"].startswith("HTTP 500 (gave up after") and 1 <= note["attempts"] <= 8


async def test_a_stale_watch_event_does_not_send_twice(settings, receiver):
    kube = FakeKube()
    obj = kube.add(merge("vm-s", callback=receiver.url("s")))
    stale = copy.deepcopy(obj)
    async with Running(settings, kube) as notifier:
        notifier.observe(copy.deepcopy(obj))
        await until(lambda: kube.notification("vm-s").get("state") == "Delivered")
        notifier.observe(stale)  # the watch may still deliver the object as it was before our write
        await asyncio.sleep(0.5)
    assert len(receiver.to("s")) == 1


async def test_at_the_concurrency_limit_the_rest_wait_their_turn(settings, receiver):
    kube = FakeKube()
    merges = [kube.add(merge(f"vm-c{i}", callback=receiver.url("slow", hang=True))) for i in range(2)]
    merges.append(kube.add(merge("vm-last", callback=receiver.url("last"))))
    async with Running(settings.model_copy(update={"concurrency": 2}), kube) as notifier:
        for obj in merges:
            notifier.observe(copy.deepcopy(obj))
        await until(lambda: len(receiver.to("slow")) == 2)
        await asyncio.sleep(0.3)
        assert receiver.to("last") == [], "a third attempt started beyond the limit of 2"
        await until(lambda: kube.notification("vm-last").get("state") == "Delivered", timeout=10)
