"""Worker settings come from the contract's environment names, with safe defaults."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from videomerge_contract import worker_env as env
from videomerge_contract.resource import TERMINATION_MESSAGE_PATH
from videomerge_worker.settings import WorkerSettings


@pytest.fixture
def clean_env(monkeypatch):
    for name in dir(env):
        if name.isupper():
            monkeypatch.delenv(getattr(env, name), raising=False)
    return monkeypatch


def test_safe_defaults(clean_env):
    s = WorkerSettings()
    assert s.allow_private_urls is False
    assert s.max_clip_bytes == 2 * 1024**3
    assert s.download_concurrency == 4
    assert s.presign_expiry_seconds == 86400
    assert s.termination_message_path == Path(TERMINATION_MESSAGE_PATH)
    assert s.s3_endpoint_url is None and s.public_base_url is None
    assert s.object_key("team-a", "merge-1") == "merges/team-a/merge-1.mp4"


def test_every_value_comes_from_its_contract_name(clean_env, tmp_path):
    values = {
        env.MERGE_NAME: "m1",
        env.MERGE_NAMESPACE: "ns",
        env.S3_ENDPOINT_URL: "http://minio:9000",
        env.S3_PRESIGN_ENDPOINT_URL: "http://127.0.0.1:9000",
        env.S3_BUCKET: "clips",
        env.S3_PREFIX: "/out/",
        env.S3_REGION: "eu-west-1",
        env.PRESIGN_EXPIRY_SECONDS: "600",
        env.PUBLIC_BASE_URL: "https://cdn.example.com/v",
        env.ALLOW_PRIVATE_URLS: "true",
        env.WORK_DIR: str(tmp_path),
        env.MAX_CLIP_BYTES: "1000",
        env.MAX_TOTAL_DURATION_SECONDS: "60",
        env.DOWNLOAD_CONCURRENCY: "2",
        env.DOWNLOAD_CONNECT_TIMEOUT_SECONDS: "1.5",
        env.DOWNLOAD_READ_TIMEOUT_SECONDS: "2.5",
        env.DOWNLOAD_TIMEOUT_SECONDS: "30",
        env.DOWNLOAD_ATTEMPTS: "5",
        env.MAX_REDIRECTS: "1",
        env.FFMPEG_TIMEOUT_SECONDS: "90",
        env.TERMINATION_MESSAGE_PATH: str(tmp_path / "term"),
        env.AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
        env.AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMIK7MDENG",
    }
    for name, value in values.items():
        clean_env.setenv(name, value)
    s = WorkerSettings()
    assert (s.name, s.namespace) == ("m1", "ns")
    assert (s.s3_endpoint_url, s.s3_presign_endpoint_url) == ("http://minio:9000", "http://127.0.0.1:9000")
    assert (s.s3_bucket, s.s3_region, s.presign_expiry_seconds) == ("clips", "eu-west-1", 600)
    assert s.public_base_url == "https://cdn.example.com/v"
    assert s.allow_private_urls is True and s.work_dir == tmp_path and s.scratch_root() == tmp_path
    assert (s.max_clip_bytes, s.max_total_duration_seconds, s.download_concurrency) == (1000, 60, 2)
    assert (s.download_connect_timeout_seconds, s.download_read_timeout_seconds) == (1.5, 2.5)
    assert (s.download_timeout_seconds, s.download_attempts, s.max_redirects) == (30, 5, 1)
    assert s.ffmpeg_timeout_seconds == 90 and s.termination_message_path == tmp_path / "term"
    assert s.aws_access_key_id.get_secret_value() == "AKIDEXAMPLE"
    assert "wJalrXUtnFEMIK7MDENG" not in repr(s)
    assert s.object_key("ns", "m1") == "out/ns/m1.mp4"


def test_empty_prefix_puts_objects_under_the_namespace(clean_env):
    assert WorkerSettings(s3_prefix="").object_key("ns", "m") == "ns/m.mp4"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (env.DOWNLOAD_CONCURRENCY, "0"),
        (env.PRESIGN_EXPIRY_SECONDS, "9999999"),
        (env.MAX_CLIP_BYTES, "-1"),
        (env.ALLOW_PRIVATE_URLS, "perhaps"),
    ],
)
def test_out_of_range_values_are_rejected(clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(ValidationError):
        WorkerSettings()
