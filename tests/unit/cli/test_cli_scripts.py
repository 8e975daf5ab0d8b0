"""The CLI as scripts use it (no terminal): --output json, exit codes, one-line errors, auth."""

import json
import os
import subprocess

import pytest
from support.api_server import ApiServer
from support.terminal import CLI

from videomerge_api.store_memory import MemoryMergeStore

pytestmark = pytest.mark.unit
URLS = ["https://clips.example.com/a.mp4", "https://clips.example.com/b.mp4"]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_json_output_of_every_command(store: MemoryMergeStore, cli_env):
    started = run(cli_env, "--output", "json", "merge", *URLS, "--aspect-ratio", "9:16", "--fit", "crop")
    assert started.returncode == 0, started.stderr
    body = json.loads(started.stdout)
    task_id = body["task_id"]
    assert body["status"] == "pending"
    assert store.get(task_id)["spec"] == {
        "videoUrls": URLS,
        "quality": "high",
        "aspectRatio": "9:16",
        "fit": "crop",
    }

    status = run(cli_env, "status", task_id, "--output", "json")
    assert status.returncode == 0 and json.loads(status.stdout)["task_id"] == task_id

    listed = run(cli_env, "list", "--status", "pending", "--output", "json")
    assert [item["task_id"] for item in json.loads(listed.stdout)] == [task_id]
    assert json.loads(run(cli_env, "list", "--status", "completed", "--output", "json").stdout) == []

    not_finished = run(cli_env, "result", task_id)
    assert not_finished.returncode == 2
    assert f"merge {task_id} is not finished (pending, 0%)" in not_finished.stderr

    store.patch_status(
        task_id,
        {
            "phase": "Completed",
            "progress": 100,
            "result": {
                "mergedUrl": "https://s3.example.com/m.mp4",
                "durationSeconds": 3.0,
                "processingTime": 1.0,
                "clipsMerged": 2,
            },
        },
    )
    result = run(cli_env, "result", task_id, "--output", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["merged_url"] == "https://s3.example.com/m.mp4"

    cancelled = run(cli_env, "cancel", task_id, "--output", "json")
    assert cancelled.returncode == 0 and json.loads(cancelled.stdout)["task_id"] == task_id
    assert json.loads(cancelled.stdout)["message"].startswith("Merge removed: it had already completed")
    assert store.list(10).items == []


def test_a_failed_merge_exits_1_from_status_and_result(store: MemoryMergeStore, cli_env):
    task_id = json.loads(run(cli_env, "--output", "json", "merge", *URLS).stdout)["task_id"]
    store.patch_status(
        task_id,
        {
            "phase": "Failed",
            "error": {"reason": "UnsupportedMedia", "message": "clip 1 (…/a.mp4): no video stream"},
        },
    )
    status = run(cli_env, "status", task_id)
    assert status.returncode == 1 and "failed" in status.stdout
    result = run(cli_env, "result", task_id)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"merge {task_id} failed: UnsupportedMedia: clip 1 (…/a.mp4): no video stream"
    )


def test_cancel_says_it_is_cancelling_and_a_cancelled_merge_exits_1_with_its_reason(
    store: MemoryMergeStore, cli_env
):
    task_id = json.loads(run(cli_env, "--output", "json", "merge", *URLS).stdout)["task_id"]
    cancelling = run(cli_env, "cancel", task_id)
    assert cancelling.returncode == 0 and "Merge is being cancelled" in cancelling.stdout
    assert store.get(task_id)["spec"]["cancel"] is True
    store.patch_status(  # what the operator then writes
        task_id,
        {"phase": "Failed", "error": {"reason": "Cancelled", "message": "cancelled by request"}},
    )
    result = run(cli_env, "result", task_id)
    assert result.returncode == 1
    assert result.stderr.strip() == f"merge {task_id} failed: Cancelled: cancelled by request"
    removed = run(cli_env, "cancel", task_id)
    assert removed.returncode == 0 and "Merge removed: it had already failed" in removed.stdout
    assert store.list(10).items == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "vm-doesnotexist"], "no merge"),
        (["merge", "ftp://clips.example.com/a.mp4"], "video_urls.0"),
        (["list", "--limit", "0"], "--limit must be between 1 and 500"),
        (["merge", URLS[0], "-o", "x.mp4"], "-o/--output-file needs --wait"),
        (["--api", "localhost:8080", "list"], "--api must be an http:// or https:// URL"),
        (["frobnicate"], "invalid choice"),
        (["watch", "--output", "json"], "scripts use: list --output json"),
    ],
)
def test_usage_and_refusals_exit_2_in_one_line(cli_env, args, message):
    answer = run(cli_env, *args)
    assert answer.returncode == 2, answer
    assert message in answer.stderr
    assert "Traceback" not in answer.stderr


def test_unreachable_exits_3(cli_env):
    answer = run(cli_env | {"VIDEOMERGE_URL": "http://127.0.0.1:9"}, "list")
    assert answer.returncode == 3
    assert answer.stderr.count("\n") == 1 and "cannot reach the VideoMerge API" in answer.stderr


def test_bearer_token_from_the_environment(store: MemoryMergeStore):
    with ApiServer(store, tokens={"cli": "s3cret"}) as api:
        env = {"VIDEOMERGE_URL": api.url}
        refused = run(env, "list")
        assert refused.returncode == 2 and "VIDEOMERGE_TOKEN" in refused.stderr
        assert run(env | {"VIDEOMERGE_TOKEN": "s3cret"}, "list").returncode == 0
        assert run(env, "--token", "s3cret", "list").returncode == 0
