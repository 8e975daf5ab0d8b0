"""Optional bearer auth: every route but the health probes needs a valid token when tokens are set."""

import pytest
from api_unit_helpers import BODY

from videomerge_api.auth import TokenSet

PROTECTED = [
    ("post", "/api/v1/merge"),
    ("get", "/api/v1/merge"),
    ("get", "/api/v1/merge/vm-1/status"),
    ("get", "/api/v1/merge/vm-1/result"),
    ("delete", "/api/v1/merge/vm-1"),
    ("post", "/process"),
    ("get", "/job-status/vm-1"),
    ("get", "/metrics"),
]


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "tokens"
    path.write_text("# mounted from a Secret\nfile-token\n\n")
    return path


@pytest.mark.parametrize("method,path", PROTECTED)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic file-token", "Bearer ", "file-token"])
def test_protected_routes_are_401_without_a_valid_token(make_client, token_file, method, path, authorization):
    client = make_client(auth_token_file=str(token_file), auth_tokens="env-token")
    headers = {"authorization": authorization} if authorization else {}
    response = client.request(method, path, json=BODY if method == "post" else None, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer" and response.json()["message"]


@pytest.mark.parametrize("token", ["file-token", "env-token"])
def test_valid_tokens_from_file_and_env_pass(make_client, token_file, token):
    client = make_client(auth_token_file=str(token_file), auth_tokens="env-token")
    headers = {"authorization": f"Bearer {token}"}
    assert client.post("/api/v1/merge", json=BODY, headers=headers).status_code == 202
    assert client.get("/metrics", headers=headers).status_code == 200


def test_health_probes_need_no_token(make_client):
    client = make_client(auth_tokens="t")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_the_documentation_needs_no_token(make_client):
    """A browser opening /docs cannot send a bearer token; Swagger UI's Authorize button adds it to calls."""
    client = make_client(auth_tokens="t")
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
        assert client.get(path).status_code == 200, path
    assert client.get("/docs/../api/v1/merge").status_code == 401


def test_without_tokens_auth_is_off(client):
    assert client.get("/api/v1/merge").status_code == 200


def test_openapi_declares_the_bearer_scheme_when_auth_is_on(make_client):
    client = make_client(auth_tokens="t")
    schema = client.get("/openapi.json", headers={"authorization": "Bearer t"}).json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/merge"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_token_file_is_reread_when_the_secret_changes(token_file):
    tokens = TokenSet([], token_file)
    assert tokens.accepts("Bearer file-token") and not tokens.accepts("Bearer rotated-token")
    token_file.write_text("rotated-token\n")
    assert tokens.accepts("bearer rotated-token") and not tokens.accepts("Bearer file-token")


def test_a_missing_token_file_accepts_nothing_but_static_tokens(tmp_path):
    tokens = TokenSet(["env"], tmp_path / "absent")
    assert tokens.enabled
    assert not tokens.accepts("Bearer ") and not tokens.accepts("Bearer absent")
    assert tokens.accepts("Bearer env")
    assert not TokenSet([], None).enabled
