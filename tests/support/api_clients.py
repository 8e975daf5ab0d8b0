"""API clients the tests use: two ordinary clients and an admin, and their registry as the API reads it
(one file per token holding its hash, as the mounted Secret lays it out)."""

from pathlib import Path

from videomerge_api.clients import ROLE_ADMIN, ROLE_CLIENT, client_entry

CLIENT_TOKENS = {"alice": "tok-alice-0123", "bob": "tok-bob-4567", "admin": "tok-admin-89ab"}
CLIENT_ROLES = {"alice": ROLE_CLIENT, "bob": ROLE_CLIENT, "admin": ROLE_ADMIN}


def write_clients(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, token in CLIENT_TOKENS.items():
        (directory / name).write_text(client_entry(CLIENT_ROLES[name], token))
    return directory


def bearer(name: str) -> dict[str, str]:
    return {"authorization": f"Bearer {CLIENT_TOKENS[name]}"}
