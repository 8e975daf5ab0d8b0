"""What the notifier owes and when: backoff, the owed delivery of a merge, the status after an attempt."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from notifier_objects import merge

from videomerge_contract import NotificationState, VideoMergeStatus
from videomerge_notifier.schedule import AttemptOutcome, Backoff, after_attempt, delivery_for, webhook_id

NOW = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
DONE = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
BACKOFF = Backoff(initial_seconds=5, max_seconds=3600)


def test_backoff_doubles_within_jitter_and_is_capped():
    rng = random.Random(7)
    for failures, step in ((1, 5), (2, 10), (3, 20), (4, 40), (10, 2560), (11, 3600), (30, 3600)):
        delays = [BACKOFF.delay(failures, rng) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays), failures
        assert max(delays) - min(delays) > step / 4, "jitter spreads retries"


def test_backoff_over_a_day_gives_about_thirty_attempts():
    rng, elapsed, attempts = random.Random(1), 0.0, 0
    while elapsed < DAY.total_seconds():
        attempts += 1
        elapsed += BACKOFF.delay(attempts, rng)
    assert 25 <= attempts <= 50


def test_a_finished_merge_with_a_callback_owes_a_delivery_now():
    delivery = delivery_for(merge(), NOW)
    assert delivery is not None
    assert (delivery.namespace, delivery.name, delivery.due, delivery.window_start) == (
        "ns",
        "vm-1",
        NOW,
        DONE,
    )
    assert delivery.url == "https://hooks.example.com/videomerge?token=s3cret"
    assert (
        delivery.webhook_id
        == "msg_1b4e28ba2fa111d2883f0016d3cca427"
        == webhook_id("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    )
    assert delivery.body["type"] == "merge.completed" and delivery.body["task_id"] == "vm-1"
    assert delivery.body["merged_url"] == "https://s3.example.com/m.mp4"


def test_a_failed_merge_owes_merge_failed_with_the_result_routes_body():
    delivery = delivery_for(merge(phase="Failed"), NOW)
    assert delivery is not None
    assert delivery.body == {
        "type": "merge.failed",
        "task_id": "vm-1",
        "success": False,
        "status": "failed",
        "reason": "DownloadFailed",
        "error": "clip 2 (https://x/b.mp4): HTTP 404",
        "clip_index": None,
        "clip_url": None,
    }


def test_a_cancelled_merge_owes_one_merge_cancelled_with_the_result_routes_body():
    obj = merge(phase="Failed")
    obj["spec"]["cancel"] = True
    obj["status"]["error"] = {"reason": "Cancelled", "message": "cancelled by request"}
    delivery = delivery_for(obj, NOW)
    assert delivery is not None and delivery.due == NOW
    assert delivery.body == {
        "type": "merge.cancelled",
        "task_id": "vm-1",
        "success": False,
        "status": "failed",
        "reason": "Cancelled",
        "error": "cancelled by request",
        "clip_index": None,
        "clip_url": None,
    }
    outcome = AttemptOutcome(delivered=True, status_code=204, error=None, permanent=False)
    notification = after_attempt(delivery, outcome, NOW, DAY, BACKOFF, random.Random(1))
    assert (notification.state, notification.event) == (NotificationState.DELIVERED, "merge.cancelled")
    obj["status"]["notification"] = notification.to_crd()
    assert delivery_for(obj, NOW) is None, "delivered once: nothing more is owed"


@pytest.mark.parametrize(
    "obj",
    [
        merge(callback=None),
        merge(phase="Processing"),
        merge(phase="Queued"),
        merge(deleting=True),
        merge(notification={"state": "Delivered", "attempts": 1}),
        merge(notification={"state": "Failed", "attempts": 9}),
    ],
    ids=["no callback", "running", "queued", "being deleted", "delivered", "given up"],
)
def test_nothing_owed(obj):
    assert delivery_for(obj, NOW) is None


def test_a_retry_is_due_at_its_next_attempt_time():
    later = "2026-01-01T12:05:00Z"
    delivery = delivery_for(
        merge(notification={"state": "Delivering", "attempts": 2, "nextAttemptAt": later}), NOW
    )
    assert delivery is not None and delivery.due == datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
    assert delivery.previous is not None and delivery.previous.attempts == 2


def _after(outcome, obj=None, now=NOW, retry_for=DAY):
    delivery = delivery_for(obj or merge(), now)
    assert delivery is not None
    return after_attempt(delivery, outcome, now, retry_for, BACKOFF, random.Random(3))


def test_success_is_delivered_with_its_time():
    status = _after(AttemptOutcome(True, status_code=204))
    assert status.state == NotificationState.DELIVERED
    assert (status.attempts, status.delivered_at, status.last_status_code, status.last_error) == (
        1,
        NOW,
        204,
        None,
    )
    assert status.event == "merge.completed" and status.webhook_id.startswith("msg_")


def test_failure_schedules_the_next_attempt_and_counts_on():
    first = _after(AttemptOutcome(False, status_code=500, error="HTTP 500"))
    assert first.state == NotificationState.DELIVERING and first.attempts == 1
    assert first.last_error == "HTTP 500" and first.next_attempt_at is not None
    assert NOW + timedelta(seconds=2.5) <= first.next_attempt_at <= NOW + timedelta(seconds=5)
    obj = merge(notification=first.to_crd() | {"lastAttemptAt": NOW.isoformat()})
    second = _after(AttemptOutcome(False, error="timed out"), obj=obj, now=NOW + timedelta(seconds=5))
    assert second.attempts == 2 and second.last_error == "timed out"
    assert second.next_attempt_at >= NOW + timedelta(seconds=5 + 5)


def test_a_refused_address_fails_at_once():
    status = _after(
        AttemptOutcome(False, error="callback URL refused: 10.0.0.1 is a private address", permanent=True)
    )
    assert status.state == NotificationState.FAILED and status.next_attempt_at is None
    assert "refused" in status.last_error


def test_gives_up_when_the_next_attempt_would_be_past_the_window():
    late = DONE + DAY - timedelta(seconds=1)
    status = _after(AttemptOutcome(False, status_code=503, error="HTTP 503"), now=late)
    assert status.state == NotificationState.FAILED
    assert status.last_error == "HTTP 503 (gave up after 1 attempt: retry window over)"


def test_the_status_written_fits_the_contract():
    status = _after(AttemptOutcome(False, status_code=500, error="HTTP 500"))
    parsed = VideoMergeStatus.from_crd({"phase": "Completed", "notification": status.to_crd()})
    assert parsed.notification == status
