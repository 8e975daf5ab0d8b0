"""Who is calling: API clients, each a name and a role, known by the SHA-256 of their bearer tokens.

The registry is a directory (a mounted Secret): one file per token, named ``<client>`` or ``<client>.<id>``
(a client may hold several tokens), holding ``{"role": "client"|"admin", "sha256": "<hex of the token>"}``.
Only hashes are stored; the directory is re-read when its files change (a Secret update), at most once a
second. Tokens and hashes are never logged, only client names.
"""

import hashlib
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ROLE_CLIENT = "client"
ROLE_ADMIN = "admin"
# A DNS label: usable as it is as a label value on the VideoMerge, and as a Secret key before the ``.<id>``.
CLIENT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_ENTRY_NAME = re.compile(r"^(?P<client>[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[A-Za-z0-9_-]{1,64})?$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Client:
    name: str
    role: str = ROLE_CLIENT

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN


# Who every request is when auth is explicitly disabled: everything is visible to everyone.
ANONYMOUS = Client(name="anonymous", role=ROLE_ADMIN)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_entry(role: str, token: str) -> str:
    """The registry file's content for ``token`` (what `make token` and the chart write)."""
    return json.dumps({"role": role, "sha256": token_digest(token)})


def parse_entry(file_name: str, content: str) -> tuple[str, Client] | None:
    """(token hash, client) of one registry file; None when it is not a valid entry."""
    match = _ENTRY_NAME.match(file_name)
    if match is None:
        return None
    try:
        raw = json.loads(content)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    role, digest = raw.get("role", ROLE_CLIENT), str(raw.get("sha256", "")).lower()
    if role not in (ROLE_CLIENT, ROLE_ADMIN) or not _SHA256_HEX.match(digest):
        return None
    return digest, Client(name=match["client"], role=role)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    return credential if scheme.lower() == "bearer" and credential else None


class ClientRegistry:
    def __init__(self, directory: Path | None, recheck_seconds: float = 1.0) -> None:
        self._dir = directory
        self._recheck = recheck_seconds
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._by_digest: dict[str, Client] = {}

    def identify(self, authorization: str | None) -> Client | None:
        """The client whose token the ``Authorization`` header carries; None when there is none."""
        token = bearer_token(authorization)
        if token is None:
            return None
        self._refresh()
        # A dict lookup by the token's hash: timing can only tell about the hash, never the token.
        return self._by_digest.get(token_digest(token))

    def clients(self) -> list[Client]:
        self._refresh()
        return sorted(set(self._by_digest.values()), key=lambda c: c.name)

    def _refresh(self) -> None:
        if self._dir is None:
            return
        now = time.monotonic()
        if now - self._checked_at < self._recheck:
            return
        with self._lock:
            if now - self._checked_at < self._recheck:
                return
            self._checked_at = now
            files = self._files()
            stamp = tuple((p.name, *self._stat(p)) for p in files)
            if stamp == self._stamp:
                return
            self._by_digest = self._load(files)
            self._stamp = stamp
            names = sorted({c.name for c in self._by_digest.values()})
            log.info(
                "API clients loaded: %d tokens of %d clients (%s)", len(self._by_digest), len(names), names
            )

    def _files(self) -> list[Path]:
        assert self._dir is not None
        try:
            # A mounted Secret also holds hidden ``..data`` links; every key is a visible name.
            return sorted(p for p in self._dir.iterdir() if not p.name.startswith("."))
        except OSError:
            log.error("API client directory %s is not readable: no token is accepted", self._dir)
            return []

    @staticmethod
    def _stat(path: Path) -> tuple[int, int]:
        try:
            info = path.stat()
            return info.st_mtime_ns, info.st_size
        except OSError:
            return 0, -1

    @staticmethod
    def _load(files: list[Path]) -> dict[str, Client]:
        by_digest: dict[str, Client] = {}
        for path in files:
            try:
                entry = parse_entry(path.name, path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                entry = None
            if entry is None:
                log.warning("API client entry %r is not valid and is ignored", path.name)
                continue
            by_digest[entry[0]] = entry[1]
        return by_digest
