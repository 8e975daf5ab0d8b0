"""The seeds' REST flow against the installed chart: POST → task_id → status → result → the merged file."""

import subprocess

from kubernetes import client
from support.media import probe, streams
from support.merges import CLIPS, clip_seconds, download, follow, merge_body
from support.tools import tool

from videomerge_contract import GROUP, PLURAL, VERSION


def test_merge_completes_and_the_file_is_what_was_asked(api, clip_server, installation, tmp_path):
    response = api.post(
        "/api/v1/merge", json=merge_body(clip_server, list(CLIPS), quality="medium", aspect_ratio="16:9")
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    task_id = accepted["task_id"]
    assert accepted["message"] == "Merge started"
    assert response.headers["location"].endswith(f"/api/v1/merge/{task_id}/status")

    seen = follow(api, task_id)
    assert seen.statuses[-1] == "completed", seen
    assert set(seen.statuses) <= {"pending", "processing", "completed"}
    assert seen.final["progress"] == 100

    result = api.get(f"/api/v1/merge/{task_id}/result")
    assert result.status_code == 200
    body = result.json()
    assert body["success"] is True
    assert body["clips_merged"] == len(CLIPS)
    assert abs(body["duration_seconds"] - clip_seconds()) < 0.35
    assert body["processing_time"] > 0
    assert body["merged_url"].startswith("http://127.0.0.1:9000/")

    merged = download(body["merged_url"], tmp_path / "merged.mp4")
    info = probe(merged)
    (video,) = streams(merged, "video")
    (audio,) = streams(merged, "audio")
    assert video["codec_name"] == "h264" and audio["codec_name"] == "aac"
    assert abs(video["width"] / video["height"] - 16 / 9) < 0.01
    assert video["height"] <= 720  # medium caps at 720p, and nothing is upscaled beyond the largest clip
    assert abs(float(info["format"]["duration"]) - clip_seconds()) < 0.35
    assert int(info["format"]["size"]) == merged.stat().st_size > 0

    # Platform teams see the same merge with kubectl.
    row = installation.kubectl("get", "videomerges", task_id, "--no-headers")
    assert "Completed" in row and " 3 " in f" {row} "
    wide = installation.kubectl("get", "videomerges", task_id, "-o", "wide")
    header, line = wide.splitlines()
    assert "JOB" in header and "http://" not in wide, "-o wide without the presigned URL"
    assert f" {task_id} " in f" {line} ", "the Job is named after the merge (no vm-vm-)"
    duration = installation.kubectl("get", "videomerges", task_id, "-o", "jsonpath={.status.duration}")
    assert duration.endswith("s") and duration in line, duration
    described = installation.kubectl("describe", "videomerge", task_id)
    assert "Events:" in described and "Normal" in described
    obj = client.CustomObjectsApi(installation.kube).get_namespaced_custom_object(
        GROUP, VERSION, installation.namespace, PLURAL, task_id
    )
    conditions = {c["type"]: c for c in obj["status"]["conditions"]}
    assert conditions["Complete"]["status"] == "True"
    assert all(c["observedGeneration"] == obj["metadata"]["generation"] for c in conditions.values())


def test_a_missing_clip_fails_the_merge_and_is_named(api, clip_server):
    missing = clip_server.url("no-such-clip.mp4")
    response = api.post("/api/v1/merge", json={"video_urls": [clip_server.url("landscape.mp4"), missing]})
    task_id = response.json()["task_id"]
    seen = follow(api, task_id)
    assert seen.statuses[-1] == "failed"
    result = api.get(f"/api/v1/merge/{task_id}/result").json()
    assert result["success"] is False and result["status"] == "failed"
    assert result["reason"] == "DownloadFailed"
    assert "clip 2" in result["error"] and missing in result["error"]


def test_a_text_file_is_refused_as_unsupported_media(api, clip_server):
    task_id = api.post("/api/v1/merge", json={"video_urls": [clip_server.url("not-a-video.mp4")]}).json()[
        "task_id"
    ]
    assert follow(api, task_id).statuses[-1] == "failed"
    result = api.get(f"/api/v1/merge/{task_id}/result").json()
    assert result["reason"] in ("UnsupportedMedia", "InvalidInput")
    assert "clip 1" in result["error"]


def test_seed_000_process_and_job_status(api, clip_server):
    response = api.post(
        "/process", json={"video_urls": [clip_server.url("classic.mkv")], "background": False}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["clips_merged"] == 1
    job = api.post("/process", json={"video_urls": [clip_server.url("classic.mkv")]})
    assert job.status_code == 202 and job.json()["status"] == "pending"
    job_id = job.json()["job_id"]
    follow(api, job_id)
    status = api.get(f"/job-status/{job_id}").json()
    assert status["job_id"] == job_id and status["status"] == "completed"
    assert status["result"]["merged_url"]


def test_helm_test_hook_passes(installation):
    out = subprocess.run(
        [
            str(tool("helm")),
            "--kubeconfig",
            installation.kubeconfig,
            "test",
            installation.release,
            "-n",
            installation.namespace,
            "--timeout",
            "2m",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Phase:          Succeeded" in out.stdout
