"""Bearer auth, on by default: every route but the health probes needs a known client's token."""

import logging

import pytest
from api_unit_helpers import BODY, CLIENT_TOKENS, bearer

from videomerge_api.clients import ROLE_ADMIN, ClientRegistry, client_entry, parse_entry, token_digest

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


@pytest.mark.parametrize("method,path", PROTECTED)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Basic {CLIENT_TOKENS['alice']}", "Bearer ", CLIENT_TOKENS["alice"]],
)
def test_protected_routes_are_401_without_a_valid_token(make_client, method, path, authorization):
    client = make_client(as_client=None)
    headers = {"authorization": authorization} if authorization else {}
    response = client.request(method, path, json=BODY if method == "post" else None, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer" and response.json()["message"]


def test_auth_is_on_by_default_and_without_clients_nothing_passes(store):
    from fastapi.testclient import TestClient

    from videomerge_api.app import create_app
    from videomerge_api.settings import ApiSettings

    with TestClient(create_app(ApiSettings(), store)) as client:
        assert client.get("/api/v1/merge", headers=bearer("alice")).status_code == 401
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("name", ["alice", "bob", "admin"])
def test_each_clients_token_passes(make_client, name):
    client = make_client(as_client=name)
    assert client.post("/api/v1/merge", json=BODY).status_code == 202
    assert client.get("/metrics").status_code == 200


def test_health_probes_need_no_token(make_client):
    client = make_client(as_client=None)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_the_documentation_needs_no_token(make_client):
    """A browser opening /docs cannot send a bearer token; Swagger UI's Authorize button adds it to calls."""
    client = make_client(as_client=None)
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
        assert client.get(path).status_code == 200, path
    assert client.get("/docs/../api/v1/merge").status_code == 401


def test_auth_off_takes_an_explicit_setting_and_warns(make_client, caplog):
    with caplog.at_level(logging.WARNING, logger="videomerge_api.app"):
        client = make_client(as_client=None, auth_enabled=False)
    assert "authentication is OFF" in caplog.text
    assert client.get("/api/v1/merge").status_code == 200
    assert client.post("/api/v1/merge", json=BODY).status_code == 202


def test_openapi_declares_the_bearer_scheme(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/merge"]["post"]["security"] == [{"bearer": []}]
    assert "429" in schema["paths"]["/api/v1/merge"]["post"]["responses"]
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_registry_is_reread_when_the_secret_changes(tmp_path):
    directory = tmp_path / "clients"
    directory.mkdir()
    (directory / "carol").write_text(client_entry("client", "first"))
    registry = ClientRegistry(directory, recheck_seconds=0)
    assert registry.identify("Bearer first").name == "carol"
    assert registry.identify("Bearer second") is None
    (directory / "carol.2").write_text(client_entry(ROLE_ADMIN, "second"))  # a second token, an admin
    (directory / "carol").unlink()  # the first one revoked
    assert registry.identify("bearer second").is_admin
    assert registry.identify("Bearer first") is None


def test_registry_keeps_hashes_only_and_never_logs_tokens(tmp_path, caplog):
    directory = tmp_path / "clients"
    directory.mkdir()
    (directory / "dave").write_text(client_entry("client", "plain-secret-token"))
    (directory / "..data").mkdir()  # what a mounted Secret also holds
    (directory / "Bad_Name").write_text(client_entry("client", "x"))
    (directory / "eve").write_text('{"role": "root", "sha256": "00"}')
    assert "plain-secret-token" not in (directory / "dave").read_text()
    with caplog.at_level(logging.INFO):
        registry = ClientRegistry(directory)
        assert [c.name for c in registry.clients()] == ["dave"]
        registry.identify("Bearer plain-secret-token")
    assert "plain-secret-token" not in caplog.text and token_digest("plain-secret-token") not in caplog.text
    assert "'Bad_Name'" in caplog.text and "'eve'" in caplog.text


def test_a_missing_client_directory_accepts_nothing(tmp_path):
    assert ClientRegistry(tmp_path / "absent").identify("Bearer anything") is None
    assert ClientRegistry(None).identify("Bearer anything") is None


@pytest.mark.parametrize(
    "file_name,content,expected",
    [
        ("alice", client_entry("client", "t"), "alice"),
        ("alice.k3", client_entry("admin", "t"), "alice"),
        ("alice", "not json", None),
        ("-alice", client_entry("client", "t"), None),
        ("alice", '{"role": "client", "sha256": "zz"}', None),
    ],
)
def test_registry_entries(file_name, content, expected):
    entry = parse_entry(file_name, content)
    assert (entry[1].name if entry else None) == expected
