"""Completion webhooks through the installed chart: a real merge, the notifier's Deployment, the chart's
generated secret as `make webhook-secret` prints it, a receiver on loopback that fails once."""

import base64
import hashlib
import hmac
import json

from standardwebhooks.webhooks import Webhook
from support.merges import CLIPS, follow, merge_body, wait
from support.webhook_receiver import WebhookReceiver


def test_a_finished_merge_calls_back_signed_and_retries(api, clip_server, installation):
    secret = installation.webhook_secret()
    assert secret.startswith("whsec_")
    with WebhookReceiver() as receiver:
        body = merge_body(clip_server, list(CLIPS)[:2], callback_url=receiver.url("done", fail=1))
        response = api.post("/api/v1/merge", json=body)
        assert response.status_code == 202, response.text
        task_id = response.json()["task_id"]
        assert follow(api, task_id).statuses[-1] == "completed"

        def delivered() -> dict | None:
            status = api.get(f"/api/v1/merge/{task_id}/status").json()
            note = status.get("notification") or {}
            return status if note.get("state") == "delivered" else None

        status = wait(delivered, timeout=90, what="the webhook delivered")
        posts = receiver.to("done")

    assert [p.answered for p in posts] == [500, 204]
    assert status["notification"]["attempts"] == 2 and status["notification"]["delivered_at"]
    final = posts[-1]
    payload = json.loads(final.body)
    result = api.get(f"/api/v1/merge/{task_id}/result").json()
    assert payload == {"type": "merge.completed", "task_id": task_id, **result}
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{final.headers['webhook-id']}.{final.headers['webhook-timestamp']}.".encode() + final.body
    assert (
        final.headers["webhook-signature"]
        == "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    )
    assert Webhook(secret).verify(final.body, final.headers)["task_id"] == task_id
    described = installation.kubectl("describe", "videomerge", task_id)
    assert "WebhookAttemptFailed" in described and "WebhookDelivered" in described
