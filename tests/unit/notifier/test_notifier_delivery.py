"""One attempt against real receivers on loopback: signed, bounded in time, behind the address guard."""

import asyncio
import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks.webhooks import Webhook
from support.webhook_receiver import WebhookReceiver

from videomerge_notifier.delivery import attempt, body_bytes, where
from videomerge_notifier.guard import async_transport

KEY = b"k" * 32
SECRET = "whsec_" + base64.b64encode(KEY).decode()
BODY = body_bytes({"type": "merge.completed", "task_id": "vm-1", "merged_url": "https://s3/x.mp4"})


@pytest.fixture
def receiver():
    with WebhookReceiver() as r:
        yield r


def _client(allow_private: bool = True) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=async_transport(allow_private=allow_private, max_connections=8),
        timeout=httpx.Timeout(connect=2, read=5, write=5, pool=5),
        follow_redirects=False,
        trust_env=False,
    )


async def _post(url: str, deadline: float = 5.0, allow_private: bool = True):
    async with _client(allow_private) as client:
        return await attempt(client, url, "msg_1", BODY, SECRET, datetime.now(UTC), deadline)


async def test_a_2xx_is_delivered_and_the_receiver_can_verify_it(receiver):
    outcome = await _post(receiver.url("ok"))
    assert (outcome.delivered, outcome.status_code, outcome.error) == (True, 204, None)
    (post,) = receiver.to("ok")
    assert post.body == BODY and post.headers["content-type"] == "application/json"
    # Independently of our signer: the HMAC recomputed by hand, and the library's verifier.
    signed = f"{post.headers['webhook-id']}.{post.headers['webhook-timestamp']}.".encode() + post.body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    assert post.headers["webhook-signature"] == f"v1,{expected}"
    assert Webhook(SECRET).verify(post.body, post.headers) == json.loads(BODY)


async def test_an_error_answer_is_a_failed_attempt(receiver):
    outcome = await _post(receiver.url("boom", status=503))
    assert (outcome.delivered, outcome.status_code, outcome.error, outcome.permanent) == (
        False,
        503,
        "HTTP 503",
        False,
    )


async def test_redirects_are_not_followed(receiver):
    outcome = await _post(receiver.url("moved", status=302))
    assert not outcome.delivered and outcome.error == "HTTP 302: redirects are not followed"
    assert len(receiver.posts) == 1


async def test_a_hanging_receiver_costs_one_deadline_and_does_not_block_another(receiver):
    hang, ok = receiver.url("hang", hang=True), receiver.url("fast")
    async with _client() as client:
        started = time.monotonic()
        slow = asyncio.create_task(attempt(client, hang, "msg_h", BODY, SECRET, datetime.now(UTC), 1.5))
        await asyncio.sleep(0.2)
        fast = await attempt(client, ok, "msg_f", BODY, SECRET, datetime.now(UTC), 1.5)
        fast_done = time.monotonic() - started
        timed_out = await slow
        slow_done = time.monotonic() - started
    assert fast.delivered and fast_done < 1.0
    assert not timed_out.delivered and timed_out.error == "no answer within 1.5 s"
    assert 1.4 <= slow_done < 3.0


async def test_the_guard_refuses_loopback_before_connecting(receiver):
    outcome = await _post(receiver.url("private"), allow_private=False)
    assert not outcome.delivered and outcome.permanent
    assert outcome.error.startswith("callback URL refused: 127.0.0.1 ")
    assert receiver.posts == []


async def test_a_closed_port_is_a_retryable_connection_error():
    async with _client() as client:
        outcome = await attempt(client, "http://127.0.0.1:9/x", "msg", BODY, SECRET, datetime.now(UTC), 3)
    assert not outcome.delivered and not outcome.permanent and outcome.error.startswith("ConnectError")


def test_where_hides_the_query():
    assert where("https://h.example.com:8443/hook?token=s3cret") == "https://h.example.com:8443/hook"
