"""The installed ``videomerge-worker`` command: its JSON result line, exit codes and one-line errors."""

import json
import subprocess

import pytest
from support.media import streams
from support.worker_cli import COMMAND, worker_environment

from videomerge_contract import worker_env as env
from videomerge_contract.resource import EXIT_PERMANENT_FAILURE, EXIT_RETRYABLE_FAILURE

REST_FIELDS = {"success", "merged_url", "duration_seconds", "processing_time", "clips_merged"}


@pytest.fixture
def run_cli(scratch):
    environment = worker_environment(scratch, DOWNLOAD_ATTEMPTS="2")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(COMMAND), *args], env=environment, capture_output=True, text=True, timeout=60
        )
        assert list(scratch.iterdir()) == [], "temporary files left behind"
        return done

    return run


def test_merge_prints_the_rest_result_as_its_last_line(server, run_cli, tmp_path):
    output = tmp_path / "sub" / "merged.mp4"
    args = [
        "merge",
        "--quality",
        "original",
        "--aspect-ratio",
        "original",
        "--fit",
        "crop",
        "-o",
        str(output),
    ]
    done = run_cli(*args, server.url("a.mp4"), server.url("b.mp4"))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result.keys() >= REST_FIELDS
    assert result["success"] is True
    assert result["merged_url"] == str(output)
    assert result["duration_seconds"] == pytest.approx(2.0, abs=0.1)
    assert result["clips_merged"] == 2
    assert 0 < result["processing_time"] < 60
    assert (result["strategy"], result["width"], result["height"]) == ("copy", 320, 240)
    assert result["size_bytes"] == output.stat().st_size
    assert len(streams(output, "video")) == len(streams(output, "audio")) == 1
    assert done.stderr == ""


def test_merge_with_pictures_writes_the_poster_and_the_storyboard(server, run_cli, tmp_path):
    pictures = tmp_path / "pictures"
    done = run_cli(
        "merge", "--quality", "original", "--aspect-ratio", "original", "--pictures", str(pictures),
        "-o", str(tmp_path / "m.mp4"), server.url("a.mp4"),
        server.url("b.mp4"), server.url("c.mp4"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    poster, storyboard = pictures / "poster.jpg", pictures / "storyboard.jpg"
    assert (result["poster_url"], result["storyboard_url"]) == (str(poster), str(storyboard))
    (frame,) = streams(poster, "video")
    assert (frame["codec_name"], frame["width"], frame["height"]) == ("mjpeg", 320, 240)
    (board,) = streams(storyboard, "video")
    assert board["codec_name"] == "mjpeg" and board["width"] > 3 * 320 * 0.9  # three tiles in a row
    assert done.stderr == ""


def test_bad_input_exits_42_with_one_line_naming_the_clip(server, run_cli, tmp_path):
    url = server.url("text.mp4")
    done = run_cli("merge", "-o", str(tmp_path / "x.mp4"), server.url("a.mp4"), url)
    assert done.returncode == EXIT_PERMANENT_FAILURE
    failure = json.loads(done.stdout.strip().splitlines()[-1])
    assert failure["success"] is False and failure["reason"] == "UnsupportedMedia"
    assert (failure["clip_index"], failure["clip_url"]) == (1, url)
    assert failure["error"].startswith(f"clip 2 ({url}): not a readable video")
    assert "/scratch" not in failure["error"] and "file:" not in failure["error"]
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"videomerge-worker: UnsupportedMedia: clip 2 ({url}): not a readable video")
    assert not (tmp_path / "x.mp4").exists()


def test_transient_failure_exits_75(server, run_cli, tmp_path):
    done = run_cli("merge", "-o", str(tmp_path / "x.mp4"), server.url("a.mp4", status=503))
    assert done.returncode == EXIT_RETRYABLE_FAILURE
    assert done.stderr.splitlines() == [
        f"videomerge-worker: DownloadFailed: clip 1 ({server.url('a.mp4', status=503)}): HTTP 503 (after 2 attempts)"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("merge", "http://127.0.0.1:9/a.mp4"),
        ("merge", "-o", "x.mp4"),
        ("merge", "--quality", "ultra", "-o", "x"),
    ],
)
def test_command_line_mistakes_exit_2(run_cli, args):
    done = run_cli(*args)
    assert done.returncode == 2 and "usage:" in done.stderr


def test_run_needs_a_name_and_namespace(run_cli):
    done = run_cli("run")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"videomerge-worker: --name and --namespace (or ${env.MERGE_NAME}, ${env.MERGE_NAMESPACE}) are required"
    )
