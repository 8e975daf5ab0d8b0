"""Upload of the merged file to S3-compatible storage, and the URL users fetch it from."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from videomerge_contract import ErrorReason
from videomerge_worker.errors import WorkerError
from videomerge_worker.settings import WorkerSettings

CONTENT_TYPE = "video/mp4"
MIB = 1024 * 1024
# Parts of 16 MiB, four at a time: large files go up in parallel with ~64 MiB of buffers at most.
MULTIPART_THRESHOLD = 32 * MIB
MULTIPART_CHUNK = 16 * MIB
UPLOAD_THREADS = 4


# Object metadata that lets a later attempt of the same merge find this one's finished work.
SPEC_DIGEST_KEY = "videomerge-spec-digest"
FACTS_KEY = "videomerge-result"


@dataclass(frozen=True)
class Uploaded:
    bucket: str
    key: str
    url: str


@dataclass(frozen=True)
class Stored:
    """A merged object an earlier attempt of this merge uploaded: where it is, and what it said it was."""

    uploaded: Uploaded
    size_bytes: int
    facts: dict[str, Any]


def s3_client(settings: WorkerSettings, endpoint_url: str | None) -> Any:
    import boto3  # slow to import: only the ``run`` path pays for it
    from botocore.config import Config

    credentials = {}
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        credentials = {
            "aws_access_key_id": settings.aws_access_key_id.get_secret_value(),
            "aws_secret_access_key": settings.aws_secret_access_key.get_secret_value(),
        }
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"max_attempts": 5, "mode": "standard"},
        # every call, each attempt: a store that stops answering fails the upload, retryably
        connect_timeout=10,
        read_timeout=60,
    )
    session = boto3.session.Session(region_name=settings.s3_region, **credentials)
    return session.client("s3", endpoint_url=endpoint_url, config=config)


def upload(
    path: Path,
    key: str,
    settings: WorkerSettings,
    on_fraction: Callable[[float], None] | None = None,
    *,
    multipart_threshold: int = MULTIPART_THRESHOLD,
    multipart_chunk: int = MULTIPART_CHUNK,
    metadata: dict[str, str] | None = None,
) -> Uploaded:
    """Uploads ``path`` as ``key`` (multipart when large); a failure is a retryable UploadFailed."""
    from boto3.exceptions import S3UploadFailedError
    from boto3.s3.transfer import TransferConfig
    from botocore.exceptions import BotoCoreError, ClientError

    size = max(path.stat().st_size, 1)
    sent = [0]

    def on_bytes(count: int) -> None:
        sent[0] += count
        if on_fraction is not None:
            on_fraction(sent[0] / size)

    transfer = TransferConfig(
        multipart_threshold=multipart_threshold,
        multipart_chunksize=multipart_chunk,
        max_concurrency=UPLOAD_THREADS,
    )
    try:
        s3_client(settings, settings.s3_endpoint_url).upload_file(
            str(path),
            settings.s3_bucket,
            key,
            ExtraArgs={"ContentType": CONTENT_TYPE, "Metadata": metadata or {}},
            Config=transfer,
            Callback=on_bytes,
        )
        url = result_url(key, settings)
    except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
        detail = " ".join(str(exc).split())[:500]
        raise WorkerError(
            ErrorReason.UPLOAD_FAILED, f"upload to s3://{settings.s3_bucket}/{key} failed: {detail}"
        ) from None
    return Uploaded(bucket=settings.s3_bucket, key=key, url=url)


def stored_metadata(spec_digest: str, facts: dict[str, Any]) -> dict[str, str]:
    return {SPEC_DIGEST_KEY: spec_digest, FACTS_KEY: json.dumps(facts, separators=(",", ":"))}


def find_stored(key: str, settings: WorkerSettings, spec_digest: str) -> Stored | None:
    """The object at ``key`` when an earlier attempt uploaded it for the same spec, else None. Any
    failure to look is None too: the merge then simply runs (and overwrites the object)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        head = s3_client(settings, settings.s3_endpoint_url).head_object(Bucket=settings.s3_bucket, Key=key)
        metadata = head.get("Metadata") or {}
        if metadata.get(SPEC_DIGEST_KEY) != spec_digest:
            return None
        facts = json.loads(metadata.get(FACTS_KEY, ""))
        url = result_url(key, settings)
    except (BotoCoreError, ClientError, ValueError):
        return None
    if not isinstance(facts, dict):
        return None
    return Stored(Uploaded(settings.s3_bucket, key, url), int(head["ContentLength"]), facts)


def result_url(key: str, settings: WorkerSettings) -> str:
    """The public base URL + key when one is configured, else a presigned GET (signing needs no network)."""
    if settings.public_base_url:
        return f"{settings.public_base_url.rstrip('/')}/{quote(key)}"
    endpoint = settings.s3_presign_endpoint_url or settings.s3_endpoint_url
    url: str = s3_client(settings, endpoint).generate_presigned_url(
        "get_object",
        Params={"Bucket": settings.s3_bucket, "Key": key},
        ExpiresIn=settings.presign_expiry_seconds,
    )
    return url
