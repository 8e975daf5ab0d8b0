"""Bearer tokens: from a file (a mounted Secret, re-read when it changes) and/or the environment."""

import hmac
import logging
from pathlib import Path

log = logging.getLogger(__name__)


class TokenSet:
    def __init__(self, static_tokens: list[str], token_file: Path | None) -> None:
        self._static = [t.encode() for t in static_tokens]
        self._file = token_file
        self._file_stamp: tuple[float, int] | None = None
        self._file_tokens: list[bytes] = []

    @property
    def enabled(self) -> bool:
        return bool(self._static) or self._file is not None

    def _tokens_from_file(self) -> list[bytes]:
        assert self._file is not None
        try:
            info = self._file.stat()
        except OSError:
            # An unreadable file must not open the door: no file token is valid then.
            log.error("auth token file %s is not readable: only static tokens are accepted", self._file)
            return []
        stamp = (info.st_mtime, info.st_size)
        if stamp != self._file_stamp:
            lines = self._file.read_text(encoding="utf-8").splitlines()
            self._file_tokens = [
                line.strip().encode() for line in lines if line.strip() and not line.lstrip().startswith("#")
            ]
            self._file_stamp = stamp
            log.info("auth tokens loaded: %d from the token file", len(self._file_tokens))
        return self._file_tokens

    def accepts(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header value carries one of the tokens (constant-time compare)."""
        if not authorization:
            return False
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            return False
        given = credential.strip().encode()
        tokens = self._static + (self._tokens_from_file() if self._file is not None else [])
        matched = False
        for token in tokens:
            matched |= hmac.compare_digest(given, token)
        return matched
