"""Every bad request is a 4xx with a message a person understands; outages are 503; nothing leaks."""

import logging

import pytest
from api_unit_helpers import BODY, CLIENT_TOKENS, URL_A, bearer, create

from videomerge_api.messages import describe
from videomerge_contract import Limits

CASES = [
    ({"video_urls": ["ftp://example.com/a.mp4"]}, "video_urls.0: must be an http:// or https:// URL"),
    ({"video_urls": ["https://example.com/a b.mp4"]}, "video_urls.0: must be an http:// or https:// URL"),
    ({"video_urls": ["http://a"]}, "video_urls.0: must be at least 10 characters long"),
    ({"video_urls": ["https://e.com/" + "x" * Limits.MAX_URL_LENGTH]}, "video_urls.0: must be at most 2048"),
    ({"video_urls": []}, "video_urls: must list at least 1 clip URL (got none)"),
    ({"video_urls": "https://example.com/a.mp4"}, "video_urls: must be a list"),
    ({}, "video_urls: is required"),
    (
        {"video_urls": [URL_A], "quality": "ultra"},
        "quality: must be one of 'low', 'medium', 'high' or 'original'",
    ),
    ({"video_urls": [URL_A], "aspect_ratio": "21:9"}, "aspect_ratio: must be one of"),
    ({"video_urls": [URL_A], "colour": "red"}, "colour: is not a known field"),
    ({"video_urls": [42]}, "video_urls.0: must be a string"),
    ([URL_A], "body: must be a JSON object"),
]


@pytest.mark.parametrize("body,message", CASES)
def test_violations_are_422_with_a_readable_message(client, store, body, message):
    response = client.post("/api/v1/merge", json=body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["message"].startswith(message), payload["message"]
    assert isinstance(payload["detail"], list) and payload["detail"][0]["msg"]
    assert "input" not in payload["detail"][0]  # the body is never echoed back
    assert store.list(10).items == []


def test_too_many_clips_for_this_deployment(make_client):
    client = make_client(max_clips=3)
    response = client.post("/api/v1/merge", json={"video_urls": [URL_A] * 4})
    assert response.status_code == 422
    assert response.json()["message"] == "video_urls: must have at most 3 clips (got 4)"
    assert client.post("/api/v1/merge", json={"video_urls": [URL_A] * 3}).status_code == 202
    over_contract = client.post("/process", json={"video_urls": [URL_A] * (Limits.MAX_CLIPS + 1)})
    assert over_contract.status_code == 422 and "at most" in over_contract.json()["message"]


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"video_urls": [', b"\xff\xfe"])
def test_malformed_json_is_422(client, raw):
    response = client.post("/api/v1/merge", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["message"].startswith("body:")


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        (
            "application/x-www-form-urlencoded",
            "Content-Type must be application/json (got application/x-www-form-urlencoded)",
        ),
        ("text/plain; charset=utf-8", "Content-Type must be application/json (got text/plain)"),
        (None, "Content-Type must be application/json (none was sent)"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/merge", "/process"])
def test_a_body_that_is_not_json_is_415_saying_so(client, store, content_type, message, path):
    """`curl -d @body.json` without -H 'Content-Type: application/json' sends a form."""
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(path, content=b"video_urls=https%3A%2F%2Fexample.com%2Fa.mp4", headers=headers)
    assert (response.status_code, response.json()["message"]) == (415, message)
    assert store.list(10).items == []
    assert "415" in client.get("/openapi.json").json()["paths"][path]["post"]["responses"]  # documented


def test_query_mistakes_stay_422(client):
    response = client.get("/api/v1/merge", params={"limit": "many"})
    assert response.status_code == 422 and response.json()["message"].startswith("limit:")


def test_body_over_the_limit_is_413_by_length_and_by_stream(make_client, store):
    client = make_client(max_body_bytes=2048)
    big = {"video_urls": [f"https://example.com/{i:04d}-{'x' * 100}.mp4" for i in range(30)]}
    response = client.post("/api/v1/merge", json=big)
    assert response.status_code == 413 and "2048 bytes" in response.json()["message"]

    def chunks():  # no Content-Length: the limit must hold on the stream itself
        yield b'{"video_urls": ['
        for _ in range(100):
            yield b'"https://example.com/' + b"y" * 100 + b'.mp4",'
        yield b'"https://example.com/z.mp4"]}'

    streamed = client.post("/api/v1/merge", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert store.list(10).items == []
    assert client.post("/api/v1/merge", json=BODY).status_code == 202


def test_unknown_routes_and_methods_answer_json(client):
    missing = client.get("/api/v2/nothing")
    assert missing.status_code == 404 and missing.json()["message"] == "no such route"
    wrong = client.put("/api/v1/merge")
    assert wrong.status_code == 405 and wrong.json()["message"]


@pytest.mark.parametrize(
    "method,path",
    [
        ("post", "/api/v1/merge"),
        ("post", "/process"),
        ("get", "/api/v1/merge/vm-1/status"),
        ("get", "/api/v1/merge"),
        ("delete", "/api/v1/merge/vm-1"),
        ("get", "/job-status/vm-1"),
    ],
)
def test_api_server_unreachable_is_503_with_retry_after(make_client, store, method, path):
    client = make_client(cache_enabled=False, retry_after_seconds=7)
    store.unavailable = True
    response = client.request(method, path, json=BODY if method == "post" else None)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert "cannot be reached" in response.json()["message"]


def test_an_unexpected_error_is_json_without_a_stack_trace(make_client, store, caplog):
    client = make_client(cache_enabled=False)

    def broken(name):
        raise RuntimeError("secret internals https://s3/x?X-Amz-Signature=abc")

    store.get = broken
    response = client.get("/api/v1/merge/vm-1/status")
    assert response.status_code == 500
    body = response.json()
    assert body["message"].startswith("internal error") and body["request_id"]
    assert "Traceback" not in response.text and "secret internals" not in response.text


def test_request_id_is_echoed_or_made_up_and_logged_without_query_or_token(make_client, caplog):
    client = make_client(as_client=None)
    caplog.set_level(logging.INFO, logger="videomerge_api.access")
    headers = {**bearer("alice"), "x-request-id": "abc-123"}
    response = client.get(
        "/api/v1/merge", params={"status": "pending", "continue": "c2VjcmV0"}, headers=headers
    )
    assert response.headers["x-request-id"] == "abc-123"
    line = next(r.getMessage() for r in caplog.records if "abc-123" in r.getMessage())
    assert "path=/api/v1/merge " in line and "status=" in line
    assert CLIENT_TOKENS["alice"] not in caplog.text and "c2VjcmV0" not in caplog.text
    injected = client.get("/healthz", headers={"x-request-id": "bad id\nforged=1"})
    assert (
        injected.headers["x-request-id"] != "bad id\nforged=1" and len(injected.headers["x-request-id"]) == 32
    )


def test_presigned_result_urls_are_never_logged(client, store, caplog):
    from api_unit_helpers import COMPLETED_STATUS, eventually

    caplog.set_level(logging.DEBUG)
    task_id = create(client)
    store.patch_status(task_id, COMPLETED_STATUS)
    eventually(lambda: client.get(f"/api/v1/merge/{task_id}/result").status_code == 200)
    assert "X-Amz-Signature" not in caplog.text


def test_describe_caps_the_message_at_three_violations():
    errors = [
        {"loc": ("body", "video_urls", i), "type": "string_too_short", "ctx": {"min_length": 10}}
        for i in range(5)
    ]
    issues, message = describe(errors)
    assert len(issues) == 5 and message.endswith("; and 2 more") and message.count("video_urls.") == 3
