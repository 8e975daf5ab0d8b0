"""Upload to a real MinIO, and the URLs users get: presigned GET or a public base URL."""

import boto3
import httpx
import pytest
from pydantic import SecretStr

from videomerge_contract import ErrorReason
from videomerge_worker.errors import WorkerError
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.upload import result_url, upload

MIB = 1024 * 1024


@pytest.fixture
def s3_settings(minio, scratch):
    return WorkerSettings(
        s3_endpoint_url=minio.endpoint,
        s3_bucket=minio.bucket,
        aws_access_key_id=minio.access_key,
        aws_secret_access_key=minio.secret_key,
        presign_expiry_seconds=300,
        work_dir=scratch,
    )


def test_upload_then_download_through_the_presigned_url(s3_settings, clip_dir):
    path = clip_dir / "a.mp4"
    fractions = []
    done = upload(path, "merges/ns/small.mp4", s3_settings, fractions.append)
    assert (done.bucket, done.key) == (s3_settings.s3_bucket, "merges/ns/small.mp4")
    assert fractions[-1] == 1.0
    assert "X-Amz-Signature=" in done.url and "X-Amz-Expires=300" in done.url
    response = httpx.get(done.url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert response.content == path.read_bytes()
    assert httpx.get(done.url.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403


def test_large_files_go_up_in_parts(s3_settings, minio, tmp_path):
    path = tmp_path / "big.mp4"
    path.write_bytes(bytes(range(256)) * (11 * MIB // 256))
    done = upload(
        path, "merges/ns/big.mp4", s3_settings, multipart_threshold=5 * MIB, multipart_chunk=5 * MIB
    )
    head = boto3.client("s3", **minio.client_kwargs()).head_object(Bucket=minio.bucket, Key=done.key)
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    assert head["ContentLength"] == path.stat().st_size
    assert httpx.get(done.url).content == path.read_bytes()


def test_presigned_urls_can_name_the_host_users_reach(s3_settings, minio, clip_dir):
    internal = minio.endpoint.replace("127.0.0.1", "localhost")
    settings = s3_settings.model_copy(
        update={"s3_endpoint_url": internal, "s3_presign_endpoint_url": minio.endpoint}
    )
    done = upload(clip_dir / "b.mp4", "merges/ns/b.mp4", settings)
    assert done.url.startswith(f"{minio.endpoint}/{minio.bucket}/merges/ns/b.mp4?")
    assert httpx.get(done.url).status_code == 200


def test_public_base_url_replaces_presigning(s3_settings):
    settings = s3_settings.model_copy(update={"public_base_url": "https://cdn.example.com/videos/"})
    assert result_url("merges/ns/a b.mp4", settings) == "https://cdn.example.com/videos/merges/ns/a%20b.mp4"


@pytest.mark.parametrize(
    "change", [{"s3_bucket": "no-such-bucket"}, {"aws_secret_access_key": SecretStr("wrong-secret-key")}]
)
def test_upload_failures_are_retryable_upload_errors(s3_settings, clip_dir, change):
    settings = s3_settings.model_copy(update=change)
    with pytest.raises(WorkerError) as caught:
        upload(clip_dir / "a.mp4", "merges/ns/x.mp4", settings)
    assert (caught.value.reason, caught.value.permanent) == (ErrorReason.UPLOAD_FAILED, False)
    assert "merges/ns/x.mp4 failed" in caught.value.message
