"""When to call a merge's webhook, and what its status says after an attempt: pure functions of time."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from videomerge_contract import (
    NotificationState,
    NotificationStatus,
    VideoMergeStatus,
    is_terminal,
    webhook_body,
)
from videomerge_notifier.settings import NotifierSettings


@dataclass(frozen=True)
class Backoff:
    initial_seconds: float
    max_seconds: float

    def delay(self, failures: int, rng: random.Random) -> float:
        """Seconds before the next attempt after ``failures`` failed ones: the capped exponential step,
        its second half drawn at random so receivers that failed together are not retried together."""
        step = min(self.max_seconds, self.initial_seconds * 2 ** max(failures - 1, 0))
        return step / 2 + rng.uniform(0, step / 2)

    @classmethod
    def of(cls, settings: NotifierSettings) -> "Backoff":
        return cls(settings.backoff_initial_seconds, settings.backoff_max_seconds)


@dataclass(frozen=True)
class Delivery:
    """A webhook that is owed: where, what, and from when on."""

    namespace: str
    name: str
    url: str
    webhook_id: str
    body: dict[str, Any]
    due: datetime
    window_start: datetime
    previous: NotificationStatus | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def event(self) -> str:
        return str(self.body["type"])


@dataclass(frozen=True)
class AttemptOutcome:
    delivered: bool
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False  # retrying cannot help (the address is refused)


def webhook_id(uid: str) -> str:
    """Stable across retries (receivers deduplicate on it), different for every merge."""
    return f"msg_{uid.replace('-', '')}"


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def delivery_for(obj: dict[str, Any], now: datetime) -> Delivery | None:
    """The webhook this VideoMerge still owes, or None (no callback, not finished, done, being deleted)."""
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    url = spec.get("callbackUrl")
    if not url or meta.get("deletionTimestamp"):
        return None
    raw_status = obj.get("status") or {}
    status = VideoMergeStatus.from_crd(raw_status)
    if not is_terminal(status.phase):
        return None
    notification = status.notification
    if notification is not None and notification.state != NotificationState.DELIVERING:
        return None
    body = webhook_body(str(meta["name"]), raw_status)
    if body is None:
        return None
    due = (notification.next_attempt_at if notification else None) or now
    window_start = status.completion_time or _parse_time(meta.get("creationTimestamp")) or now
    return Delivery(
        namespace=str(meta["namespace"]),
        name=str(meta["name"]),
        url=str(url),
        webhook_id=webhook_id(str(meta.get("uid", meta["name"]))),
        body=body,
        due=due,
        window_start=window_start,
        previous=notification,
    )


def after_attempt(
    delivery: Delivery,
    outcome: AttemptOutcome,
    now: datetime,
    retry_for: timedelta,
    backoff: Backoff,
    rng: random.Random,
) -> NotificationStatus:
    """The notification status once an attempt ended: delivered, retry at a time, or given up."""
    attempts = (delivery.previous.attempts if delivery.previous else 0) + 1
    common: dict[str, Any] = {
        "event": delivery.event,
        "webhook_id": delivery.webhook_id,
        "attempts": attempts,
        "last_attempt_at": now,
        "last_status_code": outcome.status_code,
    }
    if outcome.delivered:
        return NotificationStatus(state=NotificationState.DELIVERED, delivered_at=now, **common)
    error = outcome.error or "no answer"
    next_at = now + timedelta(seconds=backoff.delay(attempts, rng))
    deadline = delivery.window_start + retry_for
    if outcome.permanent:
        return NotificationStatus(state=NotificationState.FAILED, last_error=error, **common)
    if next_at > deadline:
        gave_up = f"{error} (gave up after {attempts} attempt{'s' * (attempts > 1)}: retry window over)"
        return NotificationStatus(state=NotificationState.FAILED, last_error=gave_up, **common)
    return NotificationStatus(
        state=NotificationState.DELIVERING, last_error=error, next_attempt_at=next_at, **common
    )
