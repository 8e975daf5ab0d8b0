"""Property-based fuzz of the whole OpenAPI surface (schemathesis): no 5xx, every response as documented.
Auth is on, as in production: every call carries a client's bearer token.

Valid and invalid inputs alike (positive and negative generation). A second pass fuzzes the status and
result routes with arbitrary statuses the CRD allows, as the operator and worker could write them."""

import re
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import hypothesis_jsonschema_compat
import schemathesis
from api_unit_helpers import COMPLETED_STATUS, FAILED_STATUS, bearer, write_clients
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from schemathesis import DataGenerationMethod
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.types import NotSet
from starlette.testclient import TestClient

from videomerge_api.app import create_app
from videomerge_api.resources import IDEMPOTENCY_KEY_PATTERN, new_video_merge
from videomerge_api.routes_merge import ListQuery
from videomerge_api.settings import ApiSettings
from videomerge_api.store_memory import MemoryMergeStore
from videomerge_contract import ErrorReason, Phase, Stage, Strategy

hypothesis_jsonschema_compat.install()


class InstantMergeStore(MemoryMergeStore):
    """Every merge completes as it is created, so `/process` with `background: false` answers 200 (its
    documented 504 on timeout is a 5xx by design; test_api_routes covers it)."""

    def create(self, obj):
        created = super().create(obj)
        return self.patch_status(created["metadata"]["name"], COMPLETED_STATUS)


STORE = InstantMergeStore()
MAX_BODY_BYTES = 4096
CLIENTS_DIR = write_clients(Path(tempfile.mkdtemp(prefix="vm-fuzz-clients-")))
AUTH = {"Authorization": bearer("alice")["authorization"]}  # the case schemathesis replaces to check auth
# Limits off: a fuzz run fires requests as fast as it can (test_api_limits covers the 429s).
SETTINGS = {"auth_clients_dir": CLIENTS_DIR, "rate_limit_per_second": 0, "quota_max_active_merges": 0}
APP = create_app(
    ApiSettings(sync_timeout_seconds=5, max_clips=5, max_body_bytes=MAX_BODY_BYTES, **SETTINGS), STORE
)
schema = schemathesis.from_asgi(
    "/openapi.json",
    APP,
    data_generation_methods=DataGenerationMethod.all(),
    force_schema_version="30",
    headers=AUTH,
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _valid_on_the_wire(case, response) -> bool:
    """Whether a "negative" list query is in fact valid once serialized: a query string has no types, so a
    mutation such as ``limit: [1]`` goes out as ``limit=1``. Parsed exactly as the route parses it."""
    if case.operation.path != "/api/v1/merge" or case.method != "GET":
        return False
    query = dict(parse_qsl(urlsplit(str(response.request.url)).query, keep_blank_values=True))
    try:
        ListQuery.model_validate(query)
    except ValidationError:
        return False
    return True


def _negative_only_in_the_token_we_replace(case) -> bool:
    """Whether a "negative" case's only bad part was its Authorization header, which every call replaces
    with a valid token (that auth is enforced, schemathesis checks separately and we keep)."""
    meta, negative = case.meta, DataGenerationMethod.negative
    if meta is None or case.data_generation_method != negative:
        return False
    # schemathesis marks a component negative even when the operation has none of it.
    if (meta.query == negative and case.query) or (meta.path_parameters == negative and case.path_parameters):
        return False
    if meta.body == negative and not isinstance(case.body, NotSet):
        return False
    key = (case.headers or {}).get("Idempotency-Key")
    return key is None or re.fullmatch(IDEMPOTENCY_KEY_PATTERN, str(key)) is not None


def _rejected_as_too_large(response) -> bool:
    """A 413 is how the API rejects an oversized body, negative or not (schemathesis's rejection check
    knows only 4xx codes for malformed data); it must only ever answer one that really was too large."""
    if response.status_code != 413:
        return False
    body = response.request.body or b""
    assert len(body.encode() if isinstance(body, str) else body) > MAX_BODY_BYTES, response.text
    return True


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(case):
    response = case.call(headers=AUTH)
    excluded: tuple = ()
    if _rejected_as_too_large(response):
        excluded = (negative_data_rejection, positive_data_acceptance)
    elif _valid_on_the_wire(case, response) or _negative_only_in_the_token_we_replace(case):
        excluded = (negative_data_rejection,)
    # Declared as given, so schemathesis also checks the same call without it and with a bad one is 401.
    case.validate_response(
        response, excluded_checks=excluded, headers=AUTH, transport_kwargs={"headers": AUTH}
    )
    assert response.status_code < 500, response.text


def _status() -> st.SearchStrategy[dict]:
    maybe = lambda strategy: st.none() | strategy  # noqa: E731
    result = st.fixed_dictionaries(
        {
            "mergedUrl": st.text(min_size=1, max_size=40),
            "durationSeconds": st.floats(0, 1e6),
            "processingTime": st.floats(0, 1e6),
            "clipsMerged": st.integers(1, 200),
        },
        optional={"width": st.integers(1, 8000), "strategy": st.sampled_from(list(Strategy))},
    )
    error = st.fixed_dictionaries(
        {"reason": st.sampled_from(list(ErrorReason)), "message": st.text(max_size=100)},
        optional={"clipIndex": st.integers(0, 199), "clipUrl": st.text(max_size=40)},
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "phase": st.sampled_from(list(Phase)),
            "message": st.text(max_size=100),
            "stage": st.sampled_from(list(Stage)),
            "progress": st.integers(0, 100),
            "attempts": st.integers(0, 10),
            "queuePosition": st.integers(1, 1000),
            "completionTime": st.just("2026-01-01T00:00:00Z"),
            "result": maybe(result),
            "error": maybe(error),
        },
    ).map(lambda d: {k: v for k, v in d.items() if v is not None})


READS = [
    ("/api/v1/merge/{task_id}/status", "GET"),
    ("/api/v1/merge/{task_id}/result", "GET"),
    ("/job-status/{job_id}", "GET"),
    ("/api/v1/merge", "GET"),
]


@given(status=st.one_of(_status(), st.just(COMPLETED_STATUS), st.just(FAILED_STATUS)))
@FUZZ
def test_any_status_the_crd_allows_reads_as_documented(status):
    store = MemoryMergeStore()
    name = store.create(
        new_video_merge("vm-fuzz", {"videoUrls": ["https://example.com/a.mp4"]}, None, "alice")
    )
    store.patch_status(name["metadata"]["name"], status)
    app = create_app(ApiSettings(cache_enabled=False, **SETTINGS), store)
    client = TestClient(app, raise_server_exceptions=False, headers=AUTH)
    for path, method in READS:
        response = client.request(method, path.replace("{task_id}", "vm-fuzz").replace("{job_id}", "vm-fuzz"))
        assert response.status_code in (200, 409), response.text
        schema[path][method].validate_response(response)
