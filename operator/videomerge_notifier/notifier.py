"""The delivery loop: watch VideoMerges, keep the webhooks they owe, call each when due.

Everything that must survive a restart is in the VideoMerge's ``status.notification`` (attempts, next
attempt time, outcome); the in-memory table is rebuilt from a list at start. A merge's webhook may be sent
again when the process dies between the POST and the status write: delivery is at least once, and
receivers deduplicate on ``webhook-id``, which stays the same across attempts.

Each attempt is a task with its own deadline, at most ``concurrency`` at once, so a receiver that answers
slowly or never holds one slot for one deadline and nothing else.
"""

import asyncio
import contextlib
import dataclasses
import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx
from kubernetes import client, watch

from videomerge_contract import NotificationState, NotificationStatus
from videomerge_contract.ownership import Writer, check_status_patch
from videomerge_contract.resource import GROUP, PLURAL, VERSION
from videomerge_notifier.delivery import attempt, body_bytes, where
from videomerge_notifier.events import event_body
from videomerge_notifier.guard import async_transport
from videomerge_notifier.metrics import NotifierMetrics
from videomerge_notifier.schedule import AttemptOutcome, Backoff, Delivery, after_attempt, delivery_for
from videomerge_notifier.settings import NotifierSettings
from videomerge_notifier.signing import SecretError, load_secret
from videomerge_operator.kube import ApiError, KubeApi

log = logging.getLogger("videomerge_notifier")
Key = tuple[str, str]
WATCH_SECONDS: Final = 60
RETRY_AFTER_ERROR: Final = timedelta(seconds=10)
IDLE_WAKE_SECONDS: Final = 5.0
_OUTCOMES: Final = {
    NotificationState.DELIVERED: "delivered",
    NotificationState.DELIVERING: "retry",
    NotificationState.FAILED: "given_up",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _attempts_of(obj: dict[str, Any]) -> int:
    notification = (obj.get("status") or {}).get("notification") or {}
    return int(notification.get("attempts") or 0)


class Notifier:
    def __init__(
        self,
        settings: NotifierSettings,
        kube: KubeApi,
        api_client: client.ApiClient,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        metrics: NotifierMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or NotifierMetrics()
        self.listed: set[str | None] = set()  # watch scopes listed at least once (readiness)
        self.kube = kube
        self.api_client = api_client
        self.clock = clock
        self.rng = rng or random.Random()
        self.backoff = Backoff.of(settings)
        self.owed: dict[Key, Delivery] = {}
        self.inflight: dict[Key, asyncio.Task[None]] = {}
        # Attempts this process recorded per merge: a watch event older than our own write is ignored.
        self.recorded: dict[Key, int] = {}
        self.stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._threads_stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # What the watch sees (always on the event loop).
    def observe(self, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key = (str(meta.get("namespace")), str(meta.get("name")))
        if _attempts_of(obj) < self.recorded.get(key, 0):
            return
        delivery = delivery_for(obj, self.clock())
        if delivery is None:
            self.owed.pop(key, None)  # ``recorded`` stays until the merge is deleted: stale events follow
        else:
            self.owed[key] = delivery
        self._wake.set()

    def forget(self, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key = (str(meta.get("namespace")), str(meta.get("name")))
        self.owed.pop(key, None)
        self.recorded.pop(key, None)

    def relisted(self, namespace: str | None, objs: list[dict[str, Any]]) -> None:
        listed = {(str(o["metadata"]["namespace"]), str(o["metadata"]["name"])) for o in objs}
        for key in [k for k in self.owed if (namespace is None or k[0] == namespace) and k not in listed]:
            self.owed.pop(key, None)
        for obj in objs:
            self.observe(obj)
        self.listed.add(namespace)

    def readiness(self) -> tuple[bool, dict[str, object]]:
        scopes = len(self.settings.namespaces) or 1
        return len(self.listed) >= scopes, {"owed": len(self.owed), "in_flight": len(self.inflight)}

    def shutdown(self) -> None:
        """Stops the loop; attempts in flight are cancelled (their merges are retried by the next process)."""
        self.stop.set()
        self._wake.set()

    # The loop.
    async def run(self, watch: bool = True) -> None:
        """Until ``shutdown``; ``watch=False`` leaves feeding objects to ``observe`` to the caller."""
        self._loop = asyncio.get_running_loop()
        s = self.settings
        timeout = httpx.Timeout(
            connect=s.connect_timeout_seconds,
            read=s.read_timeout_seconds,
            write=s.read_timeout_seconds,
            pool=s.attempt_timeout_seconds,
        )
        transport = async_transport(allow_private=s.allow_private_urls, max_connections=s.concurrency)
        async with httpx.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
        ) as http:
            scopes: list[str | None] = [*s.namespaces] or [None]  # None: every namespace
            for namespace in scopes if watch else []:
                threading.Thread(
                    target=self._watch, args=(namespace,), name=f"watch-{namespace or 'all'}", daemon=True
                ).start()
            log.info("notifier started", extra={"namespaces": ",".join(s.namespaces) or "*"})
            try:
                await self._schedule(http)
            finally:
                self._threads_stop.set()
                for task in list(self.inflight.values()):
                    task.cancel()
                await asyncio.gather(*self.inflight.values(), return_exceptions=True)

    async def _schedule(self, http: httpx.AsyncClient) -> None:
        while not self.stop.is_set():
            now = self.clock()
            for key, delivery in sorted(self.owed.items(), key=lambda item: item[1].due):
                if len(self.inflight) >= self.settings.concurrency or delivery.due > now:
                    break
                if key not in self.inflight:
                    self.inflight[key] = asyncio.create_task(self._deliver(http, delivery))
            self.metrics.owed.set(len(self.owed))
            self.metrics.in_flight.set(len(self.inflight))
            waiting = [d.due for k, d in self.owed.items() if k not in self.inflight]
            saturated = len(self.inflight) >= self.settings.concurrency  # a finishing attempt wakes us
            pause = (min(waiting) - now).total_seconds() if waiting and not saturated else IDLE_WAKE_SECONDS
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(max(pause, 0.01), IDLE_WAKE_SECONDS))
            if self.stop.is_set():
                return

    async def _deliver(self, http: httpx.AsyncClient, delivery: Delivery) -> None:
        key, s = delivery.key, self.settings
        try:
            try:
                secret = load_secret(s.secret_file)
            except SecretError as exc:
                log.error("cannot sign webhooks: %s", exc)
                self.owed[key] = dataclasses.replace(delivery, due=self.clock() + RETRY_AFTER_ERROR)
                return
            started = asyncio.get_running_loop().time()
            outcome = await attempt(
                http,
                delivery.url,
                delivery.webhook_id,
                body_bytes(delivery.body),
                secret,
                self.clock(),
                s.attempt_timeout_seconds,
            )
            self.metrics.attempt_seconds.observe(asyncio.get_running_loop().time() - started)
            await self._record(delivery, outcome)
        except Exception:
            log.exception("webhook of %s/%s: unexpected error; retrying", *key)
            self.owed[key] = dataclasses.replace(delivery, due=self.clock() + RETRY_AFTER_ERROR)
        finally:
            self.inflight.pop(key, None)
            self._wake.set()

    async def _record(self, delivery: Delivery, outcome: AttemptOutcome) -> None:
        key, now = delivery.key, self.clock()
        retry_for = timedelta(seconds=self.settings.retry_for_seconds)
        notification = after_attempt(delivery, outcome, now, retry_for, self.backoff, self.rng)
        patch = {"notification": notification.to_crd()}
        check_status_patch(Writer.NOTIFIER, patch)
        previous_recorded = self.recorded.get(key)
        self.recorded[key] = notification.attempts
        try:
            updated = await self.kube.patch_merge_status(delivery.namespace, delivery.name, patch, None)
        except ApiError as error:
            if error.not_found:
                self.owed.pop(key, None)
                self.recorded.pop(key, None)
                return
            # The receiver may have had it; the status does not say so. Sending again is allowed.
            self._restore(key, previous_recorded)
            raise
        except Exception:
            self._restore(key, previous_recorded)
            raise
        uid = str(updated.get("metadata", {}).get("uid", ""))
        log.info(
            "webhook attempt",
            extra={
                "merge": f"{delivery.namespace}/{delivery.name}",
                "attempt": notification.attempts,
                "state": notification.state.value,
                "code": outcome.status_code,
                "error": outcome.error,
            },
        )
        self.observe(updated)
        self.metrics.attempts.labels(_OUTCOMES[notification.state]).inc()
        await self._event(delivery, uid, outcome, notification)

    def _restore(self, key: Key, previous: int | None) -> None:
        if previous is None:
            self.recorded.pop(key, None)
        else:
            self.recorded[key] = previous

    async def _event(
        self,
        delivery: Delivery,
        uid: str,
        outcome: AttemptOutcome,
        notification: NotificationStatus,
    ) -> None:
        target, state, attempts = where(delivery.url), notification.state, notification.attempts
        if state == NotificationState.DELIVERED:
            type_, reason = "Normal", "WebhookDelivered"
            message = (
                f"{delivery.event} delivered to {target} (HTTP {outcome.status_code}, attempt {attempts})"
            )
        elif state == NotificationState.FAILED:
            type_, reason = "Warning", "WebhookFailed"
            message = f"{delivery.event} to {target} given up, attempt {attempts}: {notification.last_error}"
        else:
            type_, reason = "Warning", "WebhookAttemptFailed"
            wait = (
                (notification.next_attempt_at - self.clock()).total_seconds()
                if notification.next_attempt_at
                else 0
            )
            message = f"{delivery.event} to {target}, attempt {attempts}: {outcome.error}; next attempt in {wait:.0f} s"
        body = event_body(
            delivery.namespace,
            delivery.name,
            uid,
            type_,
            reason,
            message,
            self.clock(),
            self.settings.identity,
        )
        try:
            await self.kube.create_event(delivery.namespace, body)
        except Exception as exc:  # an Event is for people; losing one must not stop deliveries
            log.warning("could not record Event %s on %s: %s", reason, delivery.name, exc)

    # The watch (one thread per namespace, or one for all): list, then watch from the list's version.
    def _watch(self, namespace: str | None) -> None:
        custom = client.CustomObjectsApi(self.api_client)
        version: str | None = None
        listed_at = self.clock()
        while not self._threads_stop.is_set():
            try:
                # Relist now and then: a safety net behind the watch, as kopf and client-go resync.
                if (self.clock() - listed_at).total_seconds() >= self.settings.resync_seconds:
                    version = None
                if version is None:
                    listed_at = self.clock()
                    listing = (
                        custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
                        if namespace
                        else custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
                    )
                    version = listing["metadata"]["resourceVersion"]
                    self._call(self.relisted, namespace, listing.get("items") or [])
                version = self._follow(custom, namespace, version)
            except client.ApiException as exc:
                if exc.status != 410:
                    log.warning("watch of VideoMerges failed (%s); listing again", exc.status)
                    self._threads_stop.wait(2)
                version = None
            except Exception as exc:
                log.warning("watch of VideoMerges failed (%s); listing again", exc)
                version = None
                self._threads_stop.wait(2)

    def _follow(self, custom: client.CustomObjectsApi, namespace: str | None, version: str) -> str | None:
        watcher = watch.Watch()
        args: tuple[Any, ...] = (GROUP, VERSION, namespace, PLURAL) if namespace else (GROUP, VERSION, PLURAL)
        call = custom.list_namespaced_custom_object if namespace else custom.list_cluster_custom_object
        for event in watcher.stream(
            call, *args, resource_version=version, timeout_seconds=WATCH_SECONDS, allow_watch_bookmarks=True
        ):
            if self._threads_stop.is_set():
                watcher.stop()
                return version
            obj, kind = event["object"], event["type"]
            if kind == "ERROR":
                return None
            version = obj.get("metadata", {}).get("resourceVersion", version)
            if kind == "DELETED":
                self._call(self.forget, obj)
            elif kind != "BOOKMARK":
                self._call(self.observe, obj)
        return version

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            self._threads_stop.set()
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop closed meanwhile
            self._threads_stop.set()
