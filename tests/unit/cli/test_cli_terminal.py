"""The CLI in a real terminal (tmux) against a real API server: what a person sees, and the exit codes."""

import re
from pathlib import Path

import pytest
from support.api_server import eventually

from videomerge_api.store_memory import MemoryMergeStore

pytestmark = pytest.mark.unit

CLIP_A, CLIP_B, CLIP_C = (f"https://clips.example.com/{n}.mp4" for n in ("a", "b", "c"))


def only_merge(store: MemoryMergeStore) -> str:
    names: list[str] = []

    def one() -> bool:
        names[:] = [o["metadata"]["name"] for o in store.list(10).items]
        return len(names) == 1

    eventually(one, what="the merge to be created")
    return names[0]


def completed(merged_url: str, size: int) -> dict[str, object]:
    return {
        "phase": "Completed",
        "stage": "done",
        "progress": 100,
        "message": "Merged 3 clips (12.5 s)",
        "completionTime": "2026-01-01T00:00:10Z",
        "result": {
            "mergedUrl": merged_url,
            "durationSeconds": 12.5,
            "processingTime": 4.2,
            "clipsMerged": 3,
            "sizeBytes": size,
            "posterUrl": merged_url.replace(".mp4", ".poster.jpg"),
            "storyboardUrl": merged_url.replace(".mp4", ".storyboard.jpg"),
        },
    }


def test_merge_wait_shows_live_progress_then_downloads_the_result(store, terminal, file_server, tmp_path):
    base, served = file_server
    (served / "merged.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 400)
    term = terminal("merge", CLIP_A, CLIP_B, CLIP_C, "--quality", "medium", "--wait", "-o", "out.mp4")
    name = only_merge(store)
    spec = store.get(name)["spec"]
    assert spec["videoUrls"] == [CLIP_A, CLIP_B, CLIP_C] and spec["quality"] == "medium"
    term.wait_for(f"Merge {name} started (3 clips)")

    store.patch_status(
        name,
        {
            "phase": "Processing",
            "stage": "downloading",
            "progress": 10,
            "message": "downloaded 1/3 clips, 5 MiB",
        },
    )
    screen = term.wait_for("downloaded 1/3 clips, 5 MiB")
    line = next(row for row in screen.splitlines() if "downloaded 1/3" in row)
    assert re.search(r"downloading\s.*\s10%\s+elapsed \d:\d\d:\d\d ETA", line), line

    store.patch_status(name, {"stage": "merging", "progress": 60, "message": "merging 3 clips"})
    line = next(row for row in term.wait_for("merging 3 clips").splitlines() if "merging 3 clips" in row)
    assert re.search(r"merging\s.*\s60%", line), line

    store.patch_status(name, completed(f"{base}/merged.mp4", 102_412))
    assert term.exit_code() == 0
    screen = term.screen()
    assert f"{name} completed: 3 clips, 12.5 s" in screen
    assert f"merged:     {base}/merged.mp4" in screen
    assert f"poster:     {base}/merged.poster.jpg" in screen
    assert f"storyboard: {base}/merged.storyboard.jpg" in screen
    assert "Saved out.mp4 (100.0 KiB)" in screen
    assert (tmp_path / "out.mp4").read_bytes() == (served / "merged.mp4").read_bytes()
    assert "Traceback" not in screen


def test_a_failed_merge_exits_1_with_its_reason(store, terminal):
    term = terminal("merge", CLIP_A, CLIP_B, "--wait")
    name = only_merge(store)
    term.wait_for("started (2 clips)")
    store.patch_status(
        name,
        {
            "phase": "Failed",
            "message": f"clip 2 ({CLIP_B}): HTTP 404",
            "completionTime": "2026-01-01T00:00:03Z",
            "error": {"reason": "DownloadFailed", "message": f"clip 2 ({CLIP_B}): HTTP 404", "clipIndex": 1},
        },
    )
    assert term.exit_code() == 1
    assert f"merge {name} failed: DownloadFailed: clip 2 ({CLIP_B}): HTTP 404" in term.screen()


def test_ctrl_c_asks_and_no_keeps_following(store, terminal, file_server):
    base, served = file_server
    (served / "m.mp4").write_bytes(b"merged")
    term = terminal("merge", CLIP_A, CLIP_B, "--wait")
    name = only_merge(store)
    store.patch_status(
        name, {"phase": "Processing", "stage": "merging", "progress": 40, "message": "merging"}
    )
    term.wait_for("40%")
    term.keys("C-c")
    term.wait_for(f"Cancel merge {name}? [y/n] (n):")
    term.keys("n", "Enter")
    term.wait_for("Not cancelled; following it again.")
    store.patch_status(name, completed(f"{base}/m.mp4", 6))
    assert term.exit_code() == 0
    assert f"{name} completed" in term.screen()
    assert store.get(name)["status"]["phase"] == "Completed"


def test_ctrl_c_and_yes_cancels_the_merge(store, terminal):
    term = terminal("merge", CLIP_A, CLIP_B, "--wait")
    name = only_merge(store)
    store.patch_status(name, {"phase": "Processing", "stage": "downloading", "progress": 5, "message": "x"})
    term.wait_for("5%")
    term.keys("C-c")
    term.wait_for(f"Cancel merge {name}?")
    term.keys("y", "Enter")
    assert term.exit_code() == 1
    screen = term.screen()
    assert f"merge {name} cancelled" in screen and "being cancelled" in screen, screen
    kept = store.get(name)  # the record stays; the operator ends it failed, reason Cancelled
    assert kept["spec"]["cancel"] is True


def test_watch_redraws_a_live_table_until_ctrl_c(store, terminal):
    term = terminal("merge", CLIP_A, CLIP_B)
    assert term.exit_code() == 0
    name = only_merge(store)
    watcher = terminal("watch")
    screen = watcher.wait_for(name)
    assert re.search(rf"{name}\s*│\s*pending\s*│\s*0%", screen), screen
    store.patch_status(
        name, {"phase": "Processing", "stage": "merging", "progress": 73, "message": "merging now"}
    )
    screen = watcher.wait_for("merging now")
    assert re.search(rf"{name}\s*│\s*processing\s*│\s*73%\s*│\s*merging", screen), screen
    watcher.keys("C-c")
    assert watcher.exit_code() == 0
    assert "Traceback" not in watcher.screen()


def test_an_unreachable_api_exits_3_in_one_line(terminal):
    term = terminal("--api", "http://127.0.0.1:9", "status", "vm-x")
    assert term.exit_code() == 3
    screen = term.screen()
    assert "cannot reach the VideoMerge API at http://127.0.0.1:9" in screen
    assert "Traceback" not in screen


def test_merge_prints_its_task_id_and_how_to_follow(store, terminal):
    term = terminal("merge", CLIP_A, CLIP_B)
    assert term.exit_code() == 0
    name = only_merge(store)
    screen = term.screen()
    assert f"Merge {name} started (2 clips): pending" in screen
    assert f"follow it: videomerge status {name}" in screen


def test_usage_errors_exit_2(terminal, tmp_path: Path):
    term = terminal("merge", "--wait")
    assert term.exit_code() == 2
    assert "the following arguments are required: URL" in term.screen()


def test_wait_follows_a_merge_started_earlier(store, terminal, file_server, tmp_path):
    base, served = file_server
    (served / "w.mp4").write_bytes(b"merged bytes")
    assert terminal("merge", CLIP_A, CLIP_B).exit_code() == 0
    name = only_merge(store)
    term = terminal("wait", name, "-o", "w.mp4")
    store.patch_status(name, {"phase": "Processing", "stage": "uploading", "progress": 93, "message": "up"})
    term.wait_for("93%")
    store.patch_status(name, completed(f"{base}/w.mp4", 12))
    assert term.exit_code() == 0
    assert f"{name} completed" in term.screen() and (tmp_path / "w.mp4").read_bytes() == b"merged bytes"
