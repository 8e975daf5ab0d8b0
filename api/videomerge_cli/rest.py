"""The REST way in: ``--api URL`` with a bearer token."""

import time
from collections.abc import Iterator
from typing import Any

import httpx

from videomerge_cli.backend import MergeOptions
from videomerge_cli.model import (
    CliError,
    ExitCode,
    MergeOutcome,
    MergeState,
    outcome_from_rest,
    state_from_rest,
    unreachable,
    usage_error,
)

POLL_SECONDS = 0.5


class RestBackend:
    def __init__(self, url: str, token: str | None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.where = url.rstrip("/")
        self._client = httpx.Client(base_url=self.where, headers=headers, timeout=timeout)

    def create(self, options: MergeOptions) -> MergeState:
        answer = self._request("POST", "/api/v1/merge", json=options.request_fields())
        return state_from_rest(answer.json())

    def status(self, task_id: str) -> MergeState:
        return state_from_rest(self._request("GET", f"/api/v1/merge/{task_id}/status").json())

    def result(self, task_id: str) -> MergeOutcome | None:
        answer = self._request("GET", f"/api/v1/merge/{task_id}/result", accept=(409,))
        if answer.status_code == 409:
            return None
        return outcome_from_rest(task_id, answer.json())

    def list(self, status: str | None, limit: int) -> list[MergeState]:
        params: dict[str, Any] = {"limit": limit} | ({"status": status} if status else {})
        items = self._request("GET", "/api/v1/merge", params=params).json().get("items", [])
        return [state_from_rest(item) for item in items]

    def cancel(self, task_id: str) -> str:
        answer = self._request("DELETE", f"/api/v1/merge/{task_id}")
        return str(answer.json().get("message") or "cancelled")

    def follow(self, task_id: str) -> Iterator[MergeState]:
        last: MergeState | None = None
        while True:
            state = self.status(task_id)
            if state != last:
                yield state
                last = state
            if state.finished:
                return
            time.sleep(POLL_SECONDS)

    def close(self) -> None:
        self._client.close()

    def _request(self, method: str, path: str, accept: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        try:
            answer = self._client.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise unreachable(f"cannot reach the VideoMerge API at {self.where}: {_why(error)}") from None
        if answer.is_success or answer.status_code in accept:
            return answer
        raise _refusal(answer, self.where)


def _why(error: httpx.TransportError) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError):
        return f"connection failed ({text})"
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    return text


def _refusal(answer: httpx.Response, where: str) -> CliError:
    try:
        body = answer.json()
        message = str(body.get("message") or body.get("detail") or answer.reason_phrase)
    except ValueError:
        message = answer.reason_phrase or "no details"
    code = answer.status_code
    if code == 401:
        return usage_error(f"{message} (set VIDEOMERGE_TOKEN or --token)")
    if code == 404 and "application/json" not in answer.headers.get("content-type", ""):
        return usage_error(f"{where} does not look like a VideoMerge API (404 on {answer.request.url.path})")
    if code == 429 or code >= 500:
        retry = answer.headers.get("retry-after")
        hint = f"; retry after {retry} s" if retry else ""
        return CliError(f"the API answered {code}: {message}{hint}", ExitCode.UNREACHABLE)
    return usage_error(message)
