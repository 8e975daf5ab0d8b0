"""Environment variables through which the operator configures a worker pod.

The operator sets them on each Job; the worker reads them (``videomerge_worker`` settings). Both import
the names from here so neither can rename one alone. S3 credentials are not here: they reach the pod as
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` from a Secret reference, never from the VideoMerge spec.
"""

from typing import Final

MERGE_NAME: Final = "VIDEOMERGE_NAME"
MERGE_NAMESPACE: Final = "VIDEOMERGE_NAMESPACE"
S3_ENDPOINT_URL: Final = "VIDEOMERGE_S3_ENDPOINT_URL"
S3_BUCKET: Final = "VIDEOMERGE_S3_BUCKET"
S3_PREFIX: Final = "VIDEOMERGE_S3_PREFIX"
S3_REGION: Final = "VIDEOMERGE_S3_REGION"
PRESIGN_EXPIRY_SECONDS: Final = "VIDEOMERGE_PRESIGN_EXPIRY_SECONDS"
PUBLIC_BASE_URL: Final = "VIDEOMERGE_PUBLIC_BASE_URL"
ALLOW_PRIVATE_URLS: Final = "VIDEOMERGE_ALLOW_PRIVATE_URLS"
WORK_DIR: Final = "VIDEOMERGE_WORK_DIR"
MAX_CLIP_BYTES: Final = "VIDEOMERGE_MAX_CLIP_BYTES"
MAX_TOTAL_DURATION_SECONDS: Final = "VIDEOMERGE_MAX_TOTAL_DURATION_SECONDS"
DOWNLOAD_CONCURRENCY: Final = "VIDEOMERGE_DOWNLOAD_CONCURRENCY"
AWS_ACCESS_KEY_ID: Final = "AWS_ACCESS_KEY_ID"
AWS_SECRET_ACCESS_KEY: Final = "AWS_SECRET_ACCESS_KEY"
