"""Worker configuration from the environment (names from ``videomerge_contract.worker_env``)."""

import tempfile
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from videomerge_contract import resource
from videomerge_contract import worker_env as env

GIB = 1024**3


class WorkerSettings(BaseSettings):
    """Every limit has a safe default; a deployment tightens or loosens them through env variables."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", case_sensitive=True)

    name: str | None = Field(None, validation_alias=env.MERGE_NAME)
    namespace: str | None = Field(None, validation_alias=env.MERGE_NAMESPACE)

    s3_endpoint_url: str | None = Field(None, validation_alias=env.S3_ENDPOINT_URL)
    # Host that users reach the store by, when it differs from the in-cluster endpoint: presigned URLs are
    # signed for their host, so they must be signed for this one. Signing needs no network.
    s3_presign_endpoint_url: str | None = Field(None, validation_alias=env.S3_PRESIGN_ENDPOINT_URL)
    s3_bucket: str = Field("videomerge", min_length=3, validation_alias=env.S3_BUCKET)
    s3_prefix: str = Field("merges", validation_alias=env.S3_PREFIX)
    s3_region: str = Field("us-east-1", validation_alias=env.S3_REGION)
    presign_expiry_seconds: int = Field(
        86400, ge=1, le=7 * 86400, validation_alias=env.PRESIGN_EXPIRY_SECONDS
    )
    public_base_url: str | None = Field(None, validation_alias=env.PUBLIC_BASE_URL)
    aws_access_key_id: SecretStr | None = Field(None, validation_alias=env.AWS_ACCESS_KEY_ID)
    aws_secret_access_key: SecretStr | None = Field(None, validation_alias=env.AWS_SECRET_ACCESS_KEY)

    allow_private_urls: bool = Field(False, validation_alias=env.ALLOW_PRIVATE_URLS)
    work_dir: Path | None = Field(None, validation_alias=env.WORK_DIR)
    max_clip_bytes: int = Field(2 * GIB, ge=1, validation_alias=env.MAX_CLIP_BYTES)
    max_total_duration_seconds: float = Field(2 * 3600, gt=0, validation_alias=env.MAX_TOTAL_DURATION_SECONDS)
    download_concurrency: int = Field(4, ge=1, le=32, validation_alias=env.DOWNLOAD_CONCURRENCY)
    download_connect_timeout_seconds: float = Field(
        10, gt=0, validation_alias=env.DOWNLOAD_CONNECT_TIMEOUT_SECONDS
    )
    download_read_timeout_seconds: float = Field(30, gt=0, validation_alias=env.DOWNLOAD_READ_TIMEOUT_SECONDS)
    # Whole-clip deadline: a server that dribbles bytes just under the read timeout still ends.
    download_timeout_seconds: float = Field(1800, gt=0, validation_alias=env.DOWNLOAD_TIMEOUT_SECONDS)
    download_attempts: int = Field(3, ge=1, le=10, validation_alias=env.DOWNLOAD_ATTEMPTS)
    max_redirects: int = Field(5, ge=0, le=20, validation_alias=env.MAX_REDIRECTS)
    # Copy merges of MP4/MOV clips from servers that honour byte ranges are assembled while downloading
    # (mp4concat) instead of by FFmpeg; off, every merge goes through FFmpeg.
    assemble_copy_merges: bool = Field(True, validation_alias=env.ASSEMBLE_COPY_MERGES)
    # What the worker's process tree (it and its FFmpeg) may use; unset: 250 MiB, or 3/4 of the pod's
    # memory limit when it has one (resources.memory_budget). FFmpeg's runs are planned within it.
    memory_budget_bytes: int | None = Field(None, ge=32 * 1024**2, validation_alias=env.MEMORY_BUDGET_BYTES)
    ffmpeg_timeout_seconds: float = Field(4 * 3600, gt=0, validation_alias=env.FFMPEG_TIMEOUT_SECONDS)
    termination_message_path: Path = Field(
        Path(resource.TERMINATION_MESSAGE_PATH), validation_alias=env.TERMINATION_MESSAGE_PATH
    )

    def scratch_root(self) -> Path:
        return self.work_dir or Path(tempfile.gettempdir())

    def object_key(self, namespace: str, name: str) -> str:
        """``<prefix>/<namespace>/<name>.mp4``; an empty prefix gives ``<namespace>/<name>.mp4``."""
        prefix = self.s3_prefix.strip("/")
        return f"{prefix}/{namespace}/{name}.mp4" if prefix else f"{namespace}/{name}.mp4"
