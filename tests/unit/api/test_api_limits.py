"""Fair use: a token bucket per client (429 "rate limit") and a cap on unfinished merges (429 "quota")."""

import pytest
from api_unit_helpers import BODY, COMPLETED_STATUS, eventually
from prometheus_client import generate_latest

from videomerge_api.ratelimit import RateLimiter, retry_after_header


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate_per_client():
    clock = FakeClock()
    limiter = RateLimiter(per_second=2, burst=3, clock=clock)
    assert [limiter.acquire("alice") for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire("alice") == pytest.approx(0.5)
    assert limiter.acquire("bob") == 0  # buckets are per client
    clock.now += 0.5
    assert limiter.acquire("alice") == 0
    assert limiter.acquire("alice") > 0
    clock.now += 60  # refills up to the burst, no further
    assert [limiter.acquire("alice") for _ in range(4)][-1] > 0
    assert RateLimiter(per_second=0, burst=1).acquire("alice") == 0  # off


@pytest.mark.parametrize("seconds,header", [(0.01, "1"), (1.0, "1"), (1.2, "2"), (29.5, "30")])
def test_retry_after_rounds_up_to_whole_seconds(seconds, header):
    assert retry_after_header(seconds) == header


def test_over_the_rate_is_429_with_retry_after_and_says_which_limit(make_client):
    alice = make_client(as_client="alice", rate_limit_per_second=0.5, rate_limit_burst=3)
    bob = make_client(as_client="bob", rate_limit_per_second=0.5, rate_limit_burst=3)
    answers = [alice.get("/api/v1/merge") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.headers["retry-after"] == "2"
    assert limited.headers["x-ratelimit-limit"] == "0.5" and limited.headers["x-ratelimit-burst"] == "3"
    assert limited.json()["message"].startswith("rate limit: at most 0.5 requests/s per client")
    assert alice.post("/api/v1/merge", json=BODY).status_code == 429  # every route of the client
    assert alice.get("/healthz").status_code == 200  # probes are never limited
    assert bob.get("/api/v1/merge").status_code == 200  # another client has its own bucket
    metrics = generate_latest(alice.app.state.metrics.registry).decode()
    assert 'videomerge_api_limited_requests_total{limit="rate"} 2.0' in metrics


@pytest.mark.parametrize("path", ["/api/v1/merge", "/process"])
def test_unfinished_merges_are_capped_per_client(make_client, store, path):
    alice = make_client(as_client="alice", quota_max_active_merges=2, quota_retry_after_seconds=7)
    bob = make_client(as_client="bob", quota_max_active_merges=2)
    id_field = "task_id" if path == "/api/v1/merge" else "job_id"
    first = alice.post(path, json=BODY).json()[id_field]
    keyed = alice.post(path, json=BODY, headers={"Idempotency-Key": "k"})
    assert keyed.status_code == 202
    over = alice.post(path, json=BODY)
    assert over.status_code == 429 and over.headers["retry-after"] == "7"
    assert over.json()["message"].startswith("quota: client 'alice' has 2 unfinished merges")
    # A replay starts nothing: answered at the cap too.
    replay = alice.post(path, json=BODY, headers={"Idempotency-Key": "k"})
    assert replay.status_code == 202 and replay.headers["idempotent-replayed"] == "true"
    assert bob.post(path, json=BODY).status_code == 202  # the cap is per client
    store.patch_status(first, COMPLETED_STATUS)  # a finished merge no longer counts
    eventually(lambda: alice.post(path, json=BODY).status_code == 202)
    assert alice.post(path, json=BODY).status_code == 429


def test_a_cancelled_merge_frees_its_place(make_client):
    alice = make_client(as_client="alice", quota_max_active_merges=1)
    task_id = alice.post("/api/v1/merge", json=BODY).json()["task_id"]
    assert alice.post("/api/v1/merge", json=BODY).status_code == 429
    assert alice.delete(f"/api/v1/merge/{task_id}").status_code == 202
    eventually(lambda: alice.post("/api/v1/merge", json=BODY).status_code == 202)
