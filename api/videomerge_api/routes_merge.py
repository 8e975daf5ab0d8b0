"""Seed 002's async merge API under /api/v1/merge."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from videomerge_api import examples, listing
from videomerge_api.deps import (
    CurrentClient,
    IdempotencyKey,
    Service,
    client_of,
    error_docs,
    path_under_root,
    start_merge,
)
from videomerge_api.errors import ApiProblemError, invalid_field
from videomerge_api.models import (
    ErrorBody,
    MergeAccepted,
    MergeCancelled,
    MergeList,
    MergeOutcome,
    MergeStatusResponse,
    NotFinishedBody,
)
from videomerge_api.service import MergeService, phase_of
from videomerge_api.views import result_view, status_json, status_view
from videomerge_contract import DeleteAction, MergeRequest, RestStatus, delete_message


class ListQuery(BaseModel):
    """Query of the list route; unknown parameters are refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    status: RestStatus | None = Field(default=None, description="Only merges with this status.")
    limit: int = Field(default=50, ge=1, le=5000, description="Page size.")
    continue_: str | None = Field(
        default=None,
        alias="continue",
        min_length=1,
        max_length=1024,
        description="Token of the previous page.",
    )


TaskId = Annotated[
    str, Path(description="The task_id returned by POST /api/v1/merge.", examples=[examples.TASK])
]


def merge_router(list_max_limit: int) -> APIRouter:
    router = APIRouter(prefix="/api/v1/merge", tags=["merges"])

    @router.post(
        "",
        status_code=202,
        response_model=MergeAccepted,
        responses={
            202: {"content": examples.json_examples(accepted=examples.ACCEPTED)},
            **error_docs(401, 409, 413, 415, 429, 503),
            422: {"model": ErrorBody, "content": examples.json_examples(invalid=examples.INVALID)},
        },
        summary="Start a merge",
        description="Creates the merge and answers at once with its task_id; poll the status_url.",
    )
    async def create_merge(
        body: Annotated[MergeRequest, Body(openapi_examples=examples.MERGE_BODIES)],
        request: Request,
        response: Response,
        idempotency_key: IdempotencyKey = None,
    ) -> MergeAccepted:
        started = await start_merge(request, body, idempotency_key, "merge_status", "task_id")
        response.headers.update(started.headers)
        return MergeAccepted(
            task_id=started.task_id,
            status=status_view(started.obj).status,
            status_url=started.status_url,
            result_url=path_under_root(request, "merge_result", task_id=started.task_id),
        )

    @router.get(
        "/{task_id}/status",
        name="merge_status",
        response_model=MergeStatusResponse,
        responses={
            200: {"content": examples.json_examples(processing=examples.STATUS)},
            **error_docs(401, 404, 429, 503),
        },
        summary="Status of a merge",
    )
    async def merge_status(task_id: TaskId, request: Request) -> Response:
        # The hot path of every polling client: no dependency to solve, and pre-rendered JSON
        # (the response_model above documents it).
        service: MergeService = request.app.state.service
        obj = await service.read(task_id, client_of(request))
        return Response(status_json(obj), media_type="application/json")

    @router.get(
        "/{task_id}/result",
        name="merge_result",
        response_model=MergeOutcome,
        responses={
            200: {"content": examples.json_examples(completed=examples.COMPLETED, failed=examples.FAILED)},
            409: {
                "model": NotFinishedBody,
                "description": "Not finished yet: the current status.",
                "content": examples.json_examples(processing=examples.NOT_FINISHED),
            },
            **error_docs(401, 404, 429, 503),
        },
        summary="Result of a finished merge",
        description="`success: true` with the merged file's URL, or `success: false` with the reason.",
    )
    async def merge_result(task_id: TaskId, service: Service, client: CurrentClient) -> MergeOutcome:
        obj = await service.read(task_id, client)
        outcome = result_view(obj)
        if outcome is None:
            status = status_view(obj)
            raise ApiProblemError(
                409,
                f"merge is not finished yet (status: {status.status.value})",
                extra={"task_id": task_id, "status": status.status.value, "progress": status.progress},
            )
        return outcome

    @router.get(
        "",
        response_model=MergeList,
        responses=error_docs(401, 422, 429, 503),
        summary="List merges, newest first",
        description="The caller's own merges (an admin's token lists every merge).",
    )
    async def list_merges(
        service: Service, client: CurrentClient, query: Annotated[ListQuery, Query()]
    ) -> MergeList:
        if query.limit > list_max_limit:
            raise invalid_field(["query", "limit"], f"must be ≤ {list_max_limit}", "less_than_equal")
        continue_token = query.continue_
        try:
            after = listing.decode_token(continue_token) if continue_token else None
        except listing.BadTokenError:
            raise invalid_field(
                ["query", "continue"], "is not a token this API returned", "continue_token"
            ) from None
        items, next_token = listing.page(await service.all(client), query.status, query.limit, after)
        return MergeList(items=[status_view(o) for o in items], continue_=next_token)

    @router.delete(
        "/{task_id}",
        status_code=202,
        response_model=MergeCancelled,
        responses=error_docs(401, 404, 429, 503),
        summary="Cancel a merge, or remove a finished one",
        description="A merge still pending or processing is **cancelled**: its Kubernetes Job and pod are "
        "stopped and it ends `failed` with `reason: Cancelled` (`/result`), its completion webhook is "
        "sent (`merge.cancelled`), and its record stays until retention or a DELETE once it has failed "
        "(`removed: false`). A DELETE while it is being cancelled changes nothing and says so. A merge "
        "already finished is **removed**: its record goes (its status and result read 404 from then on) "
        "and, where the operator deletes stored files, its merged file and pictures too (`removed: true`). "
        "`message` says which happened.",
    )
    async def cancel_merge(task_id: TaskId, service: Service, client: CurrentClient) -> MergeCancelled:
        obj, action = await service.cancel(task_id, client)
        return MergeCancelled(
            task_id=task_id,
            message=delete_message(action, phase_of(obj)),
            removed=action is DeleteAction.REMOVE,
        )

    return router
