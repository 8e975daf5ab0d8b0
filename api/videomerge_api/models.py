"""The REST bodies the API answers with: one model per body. The request, the status body (also a list
row) and the result come from the contract (they are the REST↔CRD mapping, which the CLI shares)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from videomerge_contract import MergeFailure, MergeRequest, MergeResult, RestStatus
from videomerge_contract.views import MergeStatusResponse, ProgressFields, WebhookDelivery

URL_A, URL_B = "https://example.com/a.mp4", "https://example.com/b.mov"


class ProcessRequest(MergeRequest):
    """Body of ``POST /process`` (seed 000): the merge body plus ``background``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"video_urls": [URL_A, URL_B], "quality": "medium", "background": True}]
        },
    )

    background: bool = Field(
        default=True, description="true: answer at once with a job_id; false: wait for the result."
    )


class MergeAccepted(BaseModel):
    """202 of ``POST /api/v1/merge`` (seed 002)."""

    task_id: str
    message: str = "Merge started"
    status: RestStatus = RestStatus.PENDING
    status_url: str | None = None
    result_url: str | None = None


class ProcessAccepted(BaseModel):
    job_id: str
    status: RestStatus = RestStatus.PENDING
    message: str = "Merge started"
    status_url: str


class JobStatus(ProgressFields):
    """Answer of ``GET /job-status/{job_id}`` (seed 000): the status, and the result or error once finished."""

    job_id: str
    result: MergeResult | None = None
    error: str | None = None
    reason: str | None = None
    notification: WebhookDelivery | None = Field(
        default=None, description="Delivery of the completion webhook; only when callback_url was given."
    )


class MergeList(BaseModel):
    items: list[MergeStatusResponse]
    continue_: str | None = Field(
        default=None,
        alias="continue",
        description="Pass as `continue` to get the next page; null on the last page.",
    )

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class MergeCancelled(BaseModel):
    """202 of ``DELETE /api/v1/merge/{task_id}``: what was done, in ``message`` and ``removed``."""

    task_id: str
    message: str
    removed: bool = Field(
        description="true: the record is deleted (the merge had finished); false: the merge is being "
        "cancelled and its record stays, to read as failed with reason Cancelled."
    )


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error: ``message`` for people; ``detail`` the same, or one entry per violation for 422."""

    message: str
    detail: str | list[ValidationIssue]
    request_id: str | None = None


class NotFinishedBody(ErrorBody):
    """409 of the result route: the merge is still running; its current status."""

    task_id: str
    status: RestStatus
    progress: int


class SyncTimeoutBody(ErrorBody):
    """504 of ``/process`` with ``background: false``: still running, poll ``/job-status/{job_id}``."""

    job_id: str
    status: RestStatus


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    cache_synced: bool
    api_server_reachable: bool
    cached_merges: int


MergeOutcome = MergeResult | MergeFailure
