"""Optional finalizer work: delete a VideoMerge's merged file (and its pictures) from S3 when the VideoMerge
is deleted."""

from typing import Any

from videomerge_contract.objects import picture_keys
from videomerge_operator.settings import OperatorSettings


def object_location(
    settings: OperatorSettings, namespace: str, name: str, status: dict[str, Any]
) -> tuple[str, str]:
    """(bucket, key) the worker wrote: from status.result when recorded, else the worker's naming rule."""
    result = status.get("result") or {}
    bucket = result.get("bucket") or settings.s3_bucket
    key = result.get("objectKey") or f"{settings.s3_prefix.strip('/')}/{namespace}/{name}.mp4".lstrip("/")
    return bucket, key


def delete_merged_object(
    settings: OperatorSettings, namespace: str, name: str, status: dict[str, Any]
) -> None:
    """Deletes the object; S3 deletes are idempotent, so a missing object is not an error."""
    import boto3  # only operators with the finalizer enabled pay for importing it

    bucket, key = object_location(settings, namespace, name, status)
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region)
    for each in (key, *picture_keys(key)):  # the merged file and its poster and storyboard
        s3.delete_object(Bucket=bucket, Key=each)
