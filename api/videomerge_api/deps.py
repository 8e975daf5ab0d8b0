"""What routes share: the calling client, the service and settings of their app, the Idempotency-Key
header, the one create path of both seeds' POST routes, error docs."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from videomerge_api.clients import Client
from videomerge_api.errors import invalid_field
from videomerge_api.models import ErrorBody
from videomerge_api.resources import IDEMPOTENCY_KEY_PATTERN, name_of
from videomerge_api.service import MergeService
from videomerge_api.settings import ApiSettings
from videomerge_api.store import VideoMergeObject
from videomerge_contract import MergeRequest

_DESCRIPTIONS = {
    401: "Bearer token missing or not valid.",
    404: "No merge with this id among the caller's (or it was cancelled).",
    409: "Conflict; see `message`.",
    413: "Request body too large.",
    415: "The body was not sent as `Content-Type: application/json`.",
    422: "The request is not valid; `message` says why, `detail` lists each violation.",
    429: "Over a limit: the client's request rate, or (POST) its unfinished merges; `message` says which. "
    "Retry after `Retry-After` seconds.",
    503: "The Kubernetes API server is not reachable; retry after `Retry-After` seconds.",
}


def error_docs(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


# Dependencies are async on purpose: FastAPI runs a sync one in its thread pool, a hop on every request.
async def get_service(request: Request) -> MergeService:
    service: MergeService = request.app.state.service
    return service


async def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def client_of(request: Request) -> Client:
    """Set by the auth middleware on every route it guards."""
    client: Client = request.state.client
    return client


async def get_client(request: Request) -> Client:
    return client_of(request)


Service = Annotated[MergeService, Depends(get_service)]
CurrentClient = Annotated[Client, Depends(get_client)]
Settings = Annotated[ApiSettings, Depends(get_settings)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Retry-safe POST: the same key with the same body returns the same task; "
        "with another body, 409. 1–255 printable ASCII characters.",
    ),
]


def check_clip_count(body: MergeRequest, settings: ApiSettings) -> None:
    if len(body.video_urls) > settings.max_clips:
        raise invalid_field(
            ["body", "video_urls"],
            f"must have at most {settings.max_clips} clips (got {len(body.video_urls)})",
            "too_long",
        )


def path_under_root(request: Request, route_name: str, **params: str) -> str:
    """Path of a route for a Location header, including the prefix the API is served under."""
    return str(request.scope.get("root_path", "")) + str(request.app.url_path_for(route_name, **params))


@dataclass(frozen=True)
class Started:
    obj: VideoMergeObject
    task_id: str
    status_url: str
    headers: dict[str, str]


async def start_merge(
    request: Request,
    body: MergeRequest,
    idempotency_key: str | None,
    status_route: str,
    id_param: str,
) -> Started:
    """The create path of both seeds: limits, creation (or replay) as the calling client, and the
    ``Location`` / ``Idempotent-Replayed`` headers pointing at ``status_route``."""
    settings: ApiSettings = request.app.state.settings
    service: MergeService = request.app.state.service
    check_clip_count(body, settings)
    obj, replayed = await service.create(body, idempotency_key, client_of(request))
    task_id = name_of(obj)
    status_url = path_under_root(request, status_route, **{id_param: task_id})
    headers = {"Location": status_url} | ({"Idempotent-Replayed": "true"} if replayed else {})
    return Started(obj=obj, task_id=task_id, status_url=status_url, headers=headers)
