"""``videomerge-worker run`` against a fault-injecting API server and a real MinIO: the ending is durable.

The API server is a loopback stand-in (fake_api) that answers 500 or hangs on the requests a test picks;
the store is a real MinIO, stopped in the middle of an upload in one test.
"""

import os
import signal
import time

import boto3
import httpx
import pytest
from fake_api import FakeApi, Fault, phase_is, progress_patches, serve_api
from kubernetes import client
from support.minio import running_minio

from videomerge_contract import ErrorReason, Stage, VideoMergeSpec
from videomerge_contract import worker_env as env
from videomerge_contract.kube_client import TimeoutApiClient
from videomerge_contract.objects import picture_keys
from videomerge_contract.resource import EXIT_OK, EXIT_RETRYABLE_FAILURE
from videomerge_worker.cluster import StatusWriter, run_command, spec_digest
from videomerge_worker.errors import WorkerError
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.upload import SPEC_DIGEST_KEY, upload

pytestmark = pytest.mark.unit
MIB = 1024 * 1024


@pytest.fixture
def job_env(monkeypatch, minio, scratch, tmp_path):
    """The environment a worker pod gets, pointed at the test MinIO and the test clips' server."""
    for name in [n for n in os.environ if n.startswith("VIDEOMERGE_")]:
        monkeypatch.delenv(name)
    values = {
        env.S3_ENDPOINT_URL: minio.endpoint,
        env.S3_BUCKET: minio.bucket,
        env.AWS_ACCESS_KEY_ID: minio.access_key,
        env.AWS_SECRET_ACCESS_KEY: minio.secret_key,
        env.ALLOW_PRIVATE_URLS: "true",
        env.WORK_DIR: str(scratch),
        env.TERMINATION_MESSAGE_PATH: str(tmp_path / "termination-log"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def make_merge(server, name: str) -> FakeApi:
    spec = VideoMergeSpec(
        video_urls=[server.url("a.mp4"), server.url("b.mp4")], quality="low", aspect_ratio="original"
    )
    return FakeApi(namespace="ns", name=name, spec=spec.to_crd(), status={"phase": "Pending"})


@pytest.fixture
def api_for():
    servers = []

    def start(fake: FakeApi, timeout: tuple[float, float] = (1.0, 1.0)):
        server, host = serve_api(fake)
        servers.append(server)
        configuration = client.Configuration()
        configuration.host = host
        configuration.retries = 0
        return client.CustomObjectsApi(TimeoutApiClient(configuration, timeout))

    yield start
    for server in servers:
        server.shutdown()


def clip_requests(server) -> int:
    return sum(1 for r in server.requests if r.path in ("/a.mp4", "/b.mp4"))


def test_transient_failures_of_the_completed_write_are_retried(server, job_env, api_for):
    fake = make_merge(server, "retried")
    fake.faults.append(Fault(phase_is("Completed"), "500", times=2))
    fake.faults.append(Fault(phase_is("Completed"), "hang", times=1, hang_seconds=3))
    assert run_command("retried", "ns", api=api_for(fake)) == EXIT_OK
    assert fake.status["phase"] == "Completed"
    assert fake.status["result"]["clipsMerged"] == 2
    assert sum(1 for p in fake.patches if p["status"].get("phase") == "Completed") == 4


def test_a_retried_attempt_finds_the_stored_merge_and_does_not_merge_again(
    server, job_env, api_for, minio, tmp_path
):
    fake = make_merge(server, "stored")
    fake.faults.append(Fault(phase_is("Completed"), "500"))
    started = time.monotonic()
    code = run_command("stored", "ns", api=api_for(fake), terminal_write_seconds=3)
    assert code == EXIT_RETRYABLE_FAILURE
    assert time.monotonic() - started < 60
    assert "cannot write the Completed status" in (tmp_path / "termination-log").read_text()
    s3 = boto3.client("s3", **minio.client_kwargs())
    head = s3.head_object(Bucket=minio.bucket, Key="merges/ns/stored.mp4")
    assert head["Metadata"][SPEC_DIGEST_KEY] == spec_digest(VideoMergeSpec.from_crd(fake.spec))

    fake.faults.clear()
    downloads = clip_requests(server)
    assert run_command("stored", "ns", api=api_for(fake)) == EXIT_OK
    assert clip_requests(server) == downloads  # nothing downloaded, nothing merged
    result = fake.status["result"]
    assert fake.status["phase"] == "Completed"
    assert (result["objectKey"], result["sizeBytes"]) == ("merges/ns/stored.mp4", head["ContentLength"])
    assert result["clipsMerged"] == 2 and result["width"] > 0 and result["strategy"]
    assert result["posterUrl"] and result["storyboardUrl"]  # stored by the first attempt, found again

    # Another spec under the same name is merged afresh: the digest no longer matches.
    other = make_merge(server, "stored")
    other.spec["quality"] = "medium"
    assert run_command("stored", "ns", api=api_for(other)) == EXIT_OK
    assert clip_requests(server) > downloads


def test_progress_never_waits_for_a_hung_api_server(server, job_env, api_for):
    fake = make_merge(server, "hung")
    fake.faults.append(Fault(progress_patches, "hang", hang_seconds=2))
    writer = StatusWriter(api_for(fake), "ns", "hung")
    writer.read()
    try:
        slowest = 0.0
        for percent in range(40):
            started = time.monotonic()
            writer.progress(Stage.DOWNLOADING if percent < 20 else Stage.MERGING, percent, "working")
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.02)
        assert slowest < 0.5  # a hung write takes 2 s; writing inline took at least the 1 s read timeout
    finally:
        writer.stop_progress()
    assert any(progress_patches("PATCH", p) for p in fake.patches)  # it did try, from its own thread


def test_a_merge_completes_while_every_progress_write_hangs(server, job_env, api_for):
    fake = make_merge(server, "slow-api")
    fake.faults.append(Fault(progress_patches, "hang", hang_seconds=3))
    started = time.monotonic()
    assert run_command("slow-api", "ns", api=api_for(fake)) == EXIT_OK
    assert fake.status["phase"] == "Completed"
    assert time.monotonic() - started < 60


def test_minio_going_away_mid_upload_is_a_retryable_upload_failure(scratch, tmp_path_factory, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(64 * MIB))
    with running_minio(tmp_path_factory.mktemp("minio-gone")) as gone:
        settings = WorkerSettings(
            s3_endpoint_url=gone.endpoint,
            s3_bucket=gone.bucket,
            aws_access_key_id=gone.access_key,
            aws_secret_access_key=gone.secret_key,
            work_dir=scratch,
        )
        killed = []

        def kill_midway(fraction: float) -> None:
            if fraction > 0.2 and not killed:
                os.kill(gone.pid, signal.SIGKILL)  # the MinIO this test started
                killed.append(fraction)

        started = time.monotonic()
        with pytest.raises(WorkerError) as caught:
            upload(
                big,
                "merges/ns/big.mp4",
                settings,
                kill_midway,
                multipart_threshold=5 * MIB,
                multipart_chunk=5 * MIB,
            )
    assert killed and time.monotonic() - started < 120
    assert caught.value.reason is ErrorReason.UPLOAD_FAILED and not caught.value.permanent


def test_a_completed_merge_stores_a_poster_and_a_storyboard_beside_it(server, job_env, api_for, minio):
    fake = make_merge(server, "pictures")
    assert run_command("pictures", "ns", api=api_for(fake)) == EXIT_OK
    result = fake.status["result"]
    s3 = boto3.client("s3", **minio.client_kwargs())
    for key, field in zip(
        picture_keys("merges/ns/pictures.mp4"), ("posterUrl", "storyboardUrl"), strict=True
    ):
        assert s3.head_object(Bucket=minio.bucket, Key=key)["ContentType"] == "image/jpeg"
        answer = httpx.get(result[field], timeout=10)
        assert answer.status_code == 200 and answer.content[:3] == b"\xff\xd8\xff", field  # a JPEG


def test_pictures_that_cannot_be_made_do_not_fail_the_merge(server, job_env, api_for, monkeypatch):
    monkeypatch.setattr("videomerge_worker.storyboard.FONT_FILES", ("/nonexistent.ttf",))
    monkeypatch.setattr("videomerge_worker.storyboard.TILE_WIDTH", -5)  # FFmpeg refuses the graph
    fake = make_merge(server, "no-pictures")
    assert run_command("no-pictures", "ns", api=api_for(fake)) == EXIT_OK
    result = fake.status["result"]
    assert fake.status["phase"] == "Completed" and "posterUrl" not in result and "storyboardUrl" not in result
