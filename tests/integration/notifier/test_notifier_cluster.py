"""Completion webhooks against the local cluster's real API server, the notifier holding only the chart's
permissions (a ServiceAccount token bound to the chart's notifier rules), receivers on loopback."""

import base64
import hashlib
import hmac
import json
import time

from notifier_support import SECRET, complete, create_merge, event_reasons, notification
from standardwebhooks.webhooks import Webhook
from support.kube import wait_until

KEY = base64.b64decode(SECRET.removeprefix("whsec_"))


def _state(custom, namespace, name, state):
    return lambda: notification(custom, namespace, name).get("state") == state


def test_fails_twice_then_accepted_signed_with_an_event_per_failure(
    kube, custom, namespace, receiver, start_notifier
):
    notifier = start_notifier()
    create_merge(custom, namespace, "twice", receiver.url("twice", fail=2))
    time.sleep(1)
    assert receiver.to("twice") == [], "nothing is sent before the merge is finished"
    complete(custom, namespace, "twice")
    wait_until(
        _state(custom, namespace, "twice", "Delivered"),
        timeout=60,
        what="Delivered",
        api=kube,
        namespace=namespace,
    )

    posts = receiver.to("twice")
    assert [p.answered for p in posts] == [500, 500, 204]
    assert len({p.headers["webhook-id"] for p in posts}) == 1
    final = posts[-1]
    body = json.loads(final.body)
    assert body["type"] == "merge.completed" and body["task_id"] == "twice"
    assert body["merged_url"] == "https://s3.example.com/twice.mp4" and body["success"] is True
    # Verified independently of our signer: HMAC-SHA256 by hand, and the Standard Webhooks verifier.
    signed = f"{final.headers['webhook-id']}.{final.headers['webhook-timestamp']}.".encode() + final.body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    assert final.headers["webhook-signature"] == f"v1,{expected}"
    assert Webhook(SECRET).verify(final.body, final.headers)["task_id"] == "twice"

    note = notification(custom, namespace, "twice")
    assert note["attempts"] == 3 and note["lastStatusCode"] == 204 and note["deliveredAt"]
    wait_until(
        lambda: (
            event_reasons(kube, namespace, "twice").count("WebhookAttemptFailed") == 2
            and "WebhookDelivered" in event_reasons(kube, namespace, "twice")
        ),
        timeout=20,
        what="two WebhookAttemptFailed Events and one WebhookDelivered",
    )
    assert notifier.metric("videomerge_notifier_attempts_total", outcome="retry") == 2
    assert notifier.metric("videomerge_notifier_attempts_total", outcome="delivered") == 1
    assert notifier.metric("videomerge_notifier_attempt_seconds_count") == 3


def test_a_hanging_receiver_times_out_and_holds_nothing_else_back(
    kube, custom, namespace, receiver, start_notifier
):
    start_notifier()
    create_merge(custom, namespace, "hangs", receiver.url("hangs", hang=True))
    complete(custom, namespace, "hangs")
    wait_until(lambda: receiver.to("hangs"), timeout=30, what="the first POST to the hanging receiver")
    for i in range(3):
        create_merge(custom, namespace, f"quick-{i}", receiver.url(f"quick-{i}"))
        complete(custom, namespace, f"quick-{i}")
    wait_until(
        lambda: all(
            notification(custom, namespace, f"quick-{i}").get("state") == "Delivered" for i in range(3)
        ),
        timeout=30,
        what="the other merges delivered while one receiver hangs",
    )
    wait_until(
        lambda: notification(custom, namespace, "hangs").get("attempts", 0) >= 1,
        timeout=30,
        what="the hanging attempt recorded",
    )
    note = notification(custom, namespace, "hangs")
    assert (
        note["state"] == "Delivering"
        and note["lastError"] == "no answer within 2 s"
        and note["nextAttemptAt"]
    )
    wait_until(lambda: len(receiver.to("hangs")) >= 2, timeout=30, what="a retry of the hanging receiver")


def test_a_refused_address_fails_with_a_clear_error(kube, custom, namespace, receiver, start_notifier):
    start_notifier(allow_private_urls="false")
    create_merge(custom, namespace, "private", receiver.url("private"))
    complete(custom, namespace, "private")
    wait_until(
        _state(custom, namespace, "private", "Failed"),
        timeout=30,
        what="Failed",
        api=kube,
        namespace=namespace,
    )
    note = notification(custom, namespace, "private")
    assert note["attempts"] == 1 and note["lastError"].startswith("callback URL refused: 127.0.0.1 ")
    assert receiver.posts == []
    wait_until(lambda: "WebhookFailed" in event_reasons(kube, namespace, "private"), timeout=20, what="Event")


def test_a_restart_mid_retry_resumes_from_the_status(kube, custom, namespace, receiver, start_notifier):
    first = start_notifier("first", backoff_initial_seconds=6, backoff_max_seconds=6)
    create_merge(custom, namespace, "resume", receiver.url("resume", fail=1))
    complete(custom, namespace, "resume")
    wait_until(
        lambda: notification(custom, namespace, "resume").get("attempts") == 1,
        timeout=30,
        what="the first (failed) attempt recorded",
    )
    first.kill()  # a crash: nothing in memory survives
    note = notification(custom, namespace, "resume")
    assert note["state"] == "Delivering" and note["nextAttemptAt"]
    assert len(receiver.to("resume")) == 1
    start_notifier("second", backoff_initial_seconds=6, backoff_max_seconds=6)
    wait_until(
        _state(custom, namespace, "resume", "Delivered"), timeout=60, what="Delivered after the restart"
    )
    posts = receiver.to("resume")
    assert [p.answered for p in posts] == [500, 204]
    assert posts[0].headers["webhook-id"] == posts[1].headers["webhook-id"]
    assert notification(custom, namespace, "resume")["attempts"] == 2
