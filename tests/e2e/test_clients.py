"""Clients of the installation as a person uses them: the CLI in a real terminal, /docs in a real browser."""

import os
import re

import httpx
import pytest
from support.browser import rendered_dom
from support.media import probe, streams
from support.merges import API_URL, CLIPS, clip_seconds
from support.terminal import CLI, Terminal


def test_cli_merge_wait_shows_progress_and_downloads_the_result(installation, clip_server, tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "TERM": "xterm-256color",
        "HOME": str(tmp_path),
        "VIDEOMERGE_URL": API_URL,
        "VIDEOMERGE_TOKEN": installation.admin_token(),
    }
    urls = [clip_server.url(name) for name in CLIPS]
    term = Terminal([*CLI, "merge", *urls, "--quality", "low", "--wait", "-o", "merged.mp4"], env, tmp_path)
    try:
        screen = term.wait_for("started (3 clips)", timeout=60)
        task_id = re.search(r"Merge (vm-[0-9a-f]+) started", screen).group(1)
        assert term.exit_code(timeout=300) == 0, term.screen()
        screen = term.screen()
    finally:
        term.close()
    assert f"{task_id} completed: 3 clips" in screen
    assert re.search(r"merged:\s+http://127\.0\.0\.1:9000/", screen)
    assert "Saved merged.mp4" in screen and "Traceback" not in screen
    (video,) = streams(tmp_path / "merged.mp4", "video")
    assert video["height"] <= 480
    assert abs(float(probe(tmp_path / "merged.mp4")["format"]["duration"]) - clip_seconds()) < 0.35
    row = installation.kubectl("get", "videomerges", task_id, "--no-headers")
    assert "Completed" in row

    # The pictures: printed by the CLI, shown by kubectl describe, and real JPEGs in the store.
    poster = re.search(r"poster:\s+(http://127\.0\.0\.1:9000/\S+)", screen)
    storyboard = re.search(r"storyboard:\s+(http://127\.0\.0\.1:9000/\S+)", screen)
    assert poster and storyboard, screen
    described = installation.kubectl("describe", "videomerge", task_id)
    assert re.search(r"Poster U[Rr][Ll]:\s+http", described) and re.search(
        r"Storyboard U[Rr][Ll]:\s+http", described
    )
    board = tmp_path / "storyboard.jpg"
    board.write_bytes(httpx.get(storyboard.group(1), timeout=30).raise_for_status().content)
    (picture,) = streams(board, "video")
    assert picture["codec_name"] == "mjpeg" and picture["width"] == 3 * (320 + 8)  # three tiles in a row
    assert httpx.get(poster.group(1), timeout=30).content[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_api_pages_render_without_internet(installation, page):
    dom = rendered_dom(f"{API_URL}/{page}")
    marker = 'data-path="/api/v1/merge/{task_id}/status"' if page == "docs" else 'id="operation/create_merge'
    assert marker in dom, dom[-2000:]
