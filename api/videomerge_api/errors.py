"""Every failure becomes a JSON ErrorBody with a 4xx (or 503/504) status: never a stack trace."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from videomerge_api.messages import describe
from videomerge_api.models import ErrorBody, ValidationIssue
from videomerge_api.store import AlreadyExistsError, InvalidError, NotFoundError, StoreError, UnavailableError

log = logging.getLogger(__name__)


class ApiProblemError(Exception):
    """Raised by routes: becomes ``status`` with an ErrorBody body plus ``extra`` fields."""

    def __init__(
        self,
        status: int,
        message: str,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        issues: list[ValidationIssue] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.extra, self.headers, self.issues = extra or {}, headers, issues


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    issues: list[ValidationIssue] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        message=message, detail=issues if issues is not None else message, request_id=request_id(request)
    )
    return JSONResponse(body.model_dump(mode="json") | (extra or {}), status_code=status, headers=headers)


def invalid_field(loc: list[str | int], msg: str, kind: str) -> ApiProblemError:
    place = ".".join(str(p) for p in loc[1:]) or "body"
    return ApiProblemError(422, f"{place}: {msg}", issues=[ValidationIssue(loc=loc, msg=msg, type=kind)])


def media_type_problem(content_type: str | None, issues: list[ValidationIssue]) -> str | None:
    """Why a body was not read as JSON, when that is why it failed: curl's ``-d`` without ``-H
    'Content-Type: application/json'`` sends a form, which otherwise reads as "body: must be a JSON object"."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    if not any(i.loc[:1] == ["body"] for i in issues):
        return None
    got = f"got {media}" if media else "none was sent"
    return f"Content-Type must be application/json ({got})"


def install_error_handlers(app: FastAPI, retry_after_seconds: int) -> None:
    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        issues, message = describe(exc.errors())
        wrong_type = media_type_problem(request.headers.get("content-type"), issues)
        if wrong_type is not None:
            return error_response(request, 415, wrong_type)
        return error_response(request, 422, message, issues=issues)

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiProblemError)
        return error_response(
            request, exc.status, exc.message, issues=exc.issues, extra=exc.extra, headers=exc.headers
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        message = {404: "no such route", 405: "method not allowed on this route"}.get(
            exc.status_code, str(exc.detail)
        )
        return error_response(request, exc.status_code, message, headers=dict(exc.headers or {}))

    async def on_store(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, NotFoundError):
            return error_response(request, 404, "no merge with this id")
        if isinstance(exc, AlreadyExistsError):
            return error_response(request, 409, str(exc))
        if isinstance(exc, InvalidError):
            return error_response(request, 422, f"the Kubernetes API server rejected the merge: {exc}")
        if isinstance(exc, UnavailableError):
            message = f"{exc}; retry in a few seconds"
        else:
            message = "the Kubernetes API server is not available; retry in a few seconds"
        return error_response(request, 503, message, headers={"Retry-After": str(retry_after_seconds)})

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal error; quote the request_id when reporting it")

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(ApiProblemError, on_problem)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(StoreError, on_store)
    app.add_exception_handler(Exception, on_unexpected)
