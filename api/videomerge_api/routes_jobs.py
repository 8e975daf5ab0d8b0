"""Seed 000's names: POST /process (background or waiting) and GET /job-status/{job_id}."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse

from videomerge_api import examples
from videomerge_api.deps import CurrentClient, IdempotencyKey, Service, Settings, error_docs, start_merge
from videomerge_api.errors import ApiProblemError
from videomerge_api.models import JobStatus, MergeOutcome, ProcessAccepted, ProcessRequest, SyncTimeoutBody
from videomerge_api.views import job_view, result_view, status_view

PROCESS_BODIES = {
    "background": {
        "summary": "Answer at once with a job_id",
        "value": {**examples.MERGE_BODIES["two clips"]["value"]},
    },
    "wait": {
        "summary": "Wait for the merged file",
        "value": {**examples.MERGE_BODIES["two clips"]["value"], "background": False},
    },
}
JOB_ID = Annotated[str, Path(description="The job_id returned by POST /process.", examples=[examples.TASK])]

router = APIRouter(tags=["jobs"])


@router.post(
    "/process",
    status_code=202,
    response_model=ProcessAccepted,
    responses={
        200: {
            "model": MergeOutcome,
            "description": "`background: false` and the merge finished: its result, with its `job_id`.",
            "content": examples.json_examples(completed=examples.COMPLETED, failed=examples.FAILED),
        },
        504: {
            "model": SyncTimeoutBody,
            "description": "`background: false` and still running: poll the job.",
        },
        **error_docs(401, 409, 413, 415, 422, 429, 503),
    },
    summary="Start a merge as a job",
    description="`background: true` (default) answers 202 with a job_id at once. `background: false` waits "
    "for the result, up to the configured timeout, then 504 with the job_id to poll.",
)
async def process(
    body: Annotated[ProcessRequest, Body(openapi_examples=PROCESS_BODIES)],
    request: Request,
    service: Service,
    settings: Settings,
    client: CurrentClient,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    started = await start_merge(request, body, idempotency_key, "job_status", "job_id")
    job_id, status_url, headers = started.task_id, started.status_url, started.headers
    if body.background:
        accepted = ProcessAccepted(
            job_id=job_id, status=status_view(started.obj).status, status_url=status_url
        )
        return JSONResponse(accepted.model_dump(mode="json"), status_code=202, headers=headers)
    finished = await service.wait_terminal(
        job_id, client, settings.sync_timeout_seconds, request.is_disconnected
    )
    outcome = result_view(finished) if finished is not None else None
    if outcome is None:
        current = status_view(finished or await service.read(job_id, client))
        raise ApiProblemError(
            504,
            f"merge still running after {settings.sync_timeout_seconds:g}s; poll {status_url}",
            extra={"job_id": job_id, "status": current.status.value},
            headers=headers,
        )
    return JSONResponse(
        {"job_id": job_id} | outcome.model_dump(mode="json"), status_code=200, headers=headers
    )


@router.get(
    "/job-status/{job_id}",
    name="job_status",
    response_model=JobStatus,
    responses=error_docs(401, 404, 429, 503),
    summary="Status of a job, with its result or error once finished",
)
async def job_status(job_id: JOB_ID, service: Service, client: CurrentClient) -> JobStatus:
    return job_view(await service.read(job_id, client))
