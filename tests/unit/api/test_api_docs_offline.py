"""/docs and /redoc render in a real browser with no host but loopback reachable (assets from the image)."""

import re

import pytest
from fastapi import FastAPI
from support.api_server import ApiServer, AppServer
from support.browser import rendered_dom

from videomerge_api.store_memory import MemoryMergeStore

pytestmark = pytest.mark.unit

OPERATIONS = {
    "/api/v1/merge": "Start a merge",
    "/api/v1/merge/{task_id}/status": "Status of a merge",
    "/api/v1/merge/{task_id}/result": "Result of a finished merge",
    "/process": "Start a merge",
    "/job-status/{job_id}": "Status of a job",
}


@pytest.fixture(scope="module")
def api_url():
    # Auth on: the pages themselves need no token (a browser cannot send one to open them).
    with ApiServer(MemoryMergeStore(), tokens={"alice": "secret"}) as server:
        yield server.url


def test_swagger_ui_renders_every_operation_offline(api_url):
    dom = rendered_dom(f"{api_url}/docs")
    paths = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    summaries = re.findall(r'class="opblock-summary-description">([^<]+)<', dom)
    for path, summary in OPERATIONS.items():
        assert path in paths, path
        assert any(s.startswith(summary) for s in summaries), summary


def test_redoc_renders_the_operations_offline(api_url):
    dom = rendered_dom(f"{api_url}/redoc")
    operations = set(re.findall(r'id="operation/([^"]+)"', dom))
    assert {"create_merge_api_v1_merge_post", "merge_status_api_v1_merge__task_id__status_get"} <= operations
    assert "Start a merge" in dom


def test_the_browser_check_fails_for_pages_that_need_a_cdn():
    """The control: FastAPI's stock /docs loads Swagger UI from a CDN and, offline, renders nothing."""
    stock = FastAPI()

    @stock.get("/thing", summary="A thing")
    def thing() -> dict[str, str]:
        return {}

    with AppServer(stock) as server:
        dom = rendered_dom(f"{server.url}/docs")
    assert "opblock-summary-path" not in dom and 'id="swagger-ui"' in dom
