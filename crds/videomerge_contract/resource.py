"""Identity of the VideoMerge resource and the names that travel with it (labels, annotations, env)."""

from typing import Final

GROUP: Final = "videomerge.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "VideoMerge"
PLURAL: Final = "videomerges"
SINGULAR: Final = "videomerge"
SHORT_NAMES: Final = ("vmerge", "vmerges")
CRD_NAME: Final = f"{PLURAL}.{GROUP}"

APP_NAME: Final = "videomerge"
LABEL_NAME: Final = "app.kubernetes.io/name"
LABEL_INSTANCE: Final = "app.kubernetes.io/instance"
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_PART_OF: Final = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
# Set on every Job and pod so a merge's workload can be found from its name.
LABEL_MERGE: Final = f"{GROUP}/merge"

# Written by the API: lets a retried POST with the same Idempotency-Key find the merge it created.
ANNOTATION_IDEMPOTENCY_KEY: Final = f"{GROUP}/idempotency-key"
ANNOTATION_REQUEST_HASH: Final = f"{GROUP}/request-hash"
# Written by the API: the name of the API client that created the merge (label to select by, annotation to
# read). Client names are DNS labels, so the name itself is a valid label value.
LABEL_OWNER: Final = f"{GROUP}/owner"
# Set by the operator on a merge that has finished and whose end it has acknowledged: it never writes such
# a merge again, so its watch leaves them out (10,000 held merges cost it no memory) and its retention
# sweep lists them by this label, a page at a time.
LABEL_SETTLED: Final = f"{GROUP}/settled"
ANNOTATION_OWNER: Final = f"{GROUP}/owner"

# Images built by this repository (`make images`); charts and the operator default to these names.
WORKER_IMAGE: Final = "videomerge/worker"
CONTROL_IMAGE: Final = "videomerge/control"  # the operator and the API: one image, two entrypoints

# Condition types the operator maintains in status.conditions.
CONDITION_JOB_CREATED: Final = "JobCreated"
# True once the worker reported Processing; False with a reason while its pod cannot be created or start.
CONDITION_WORKER_STARTED: Final = "WorkerStarted"
CONDITION_COMPLETE: Final = "Complete"
CONDITION_FAILED: Final = "Failed"

# Worker exit codes. The Job's podFailurePolicy stops retrying on EXIT_PERMANENT_FAILURE (the input is bad
# and the worker already wrote a terminal Failed status); EXIT_RETRYABLE_FAILURE lets the Job retry.
EXIT_OK: Final = 0
EXIT_PERMANENT_FAILURE: Final = 42
EXIT_RETRYABLE_FAILURE: Final = 75
TERMINATION_MESSAGE_PATH: Final = "/dev/termination-log"
