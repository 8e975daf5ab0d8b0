"""The installed chart is secure by default: tokens from `make token`, each client sees only its own
merges, metrics scrape without a token on their own port."""

import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from support.kube import ROOT
from support.merges import API_URL, CLIPS, merge_body

METRICS_URL = "http://127.0.0.1:9090/metrics"


def make_token(name: str) -> str:
    out = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "token", f"NAME={name}"], check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def test_without_a_token_only_probes_docs_and_metrics_answer(installation):
    assert httpx.get(f"{API_URL}/api/v1/merge", timeout=10).status_code == 401
    assert (
        httpx.post(f"{API_URL}/process", json={"video_urls": ["http://127.0.0.1:9/a.mp4"]}).status_code == 401
    )
    assert httpx.get(f"{API_URL}/metrics", timeout=10).status_code == 401
    assert httpx.get(f"{API_URL}/readyz", timeout=10).status_code == 200
    scraped = httpx.get(METRICS_URL, timeout=10)
    assert scraped.status_code == 200 and "videomerge_api_requests_total" in scraped.text


def test_clients_from_make_token_see_only_their_own_merges(installation, api, clip_server):
    suffix = uuid.uuid4().hex[:6]
    names = [f"e2e-a-{suffix}", f"e2e-b-{suffix}"]
    # Both at once: the kubelet refreshes the mounted Secret for both in one go (up to about a minute).
    with ThreadPoolExecutor(2) as pool:
        token_a, token_b = pool.map(make_token, names)
    a = httpx.Client(base_url=API_URL, timeout=30, headers={"authorization": f"Bearer {token_a}"})
    b = httpx.Client(base_url=API_URL, timeout=30, headers={"authorization": f"Bearer {token_b}"})
    with a, b:
        created = a.post("/api/v1/merge", json=merge_body(clip_server, [next(iter(CLIPS))]))
        assert created.status_code == 202, created.text
        task_id = created.json()["task_id"]
        labels = installation.kubectl("get", "videomerge", task_id, "-o", "jsonpath={.metadata.labels}")
        assert f'"videomerge.io/owner":"{names[0]}"' in labels
        for path in (
            f"/api/v1/merge/{task_id}/status",
            f"/api/v1/merge/{task_id}/result",
            f"/job-status/{task_id}",
        ):
            assert b.get(path).status_code == 404, path
        assert task_id not in b.get("/api/v1/merge").text
        assert b.delete(f"/api/v1/merge/{task_id}").status_code == 404
        assert task_id in {i["task_id"] for i in a.get("/api/v1/merge").json()["items"]}
        assert task_id in {
            i["task_id"] for i in api.get("/api/v1/merge", params={"limit": 500}).json()["items"]
        }
        assert a.delete(f"/api/v1/merge/{task_id}").status_code == 202
