"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for load generation.

General clients (httpx) spend more CPU per request than the API under test; on a 2-core machine that
would measure the client. This one only writes a request and reads the status line, headers and a
Content-Length body. Loopback only."""

import asyncio
import json
from typing import Any


class Connection:
    def __init__(self, host: str, port: int, authorization: str | None = None) -> None:
        self.host, self.port, self.authorization = host, port, authorization
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> "Connection":
        assert self.host in ("127.0.0.1", "::1"), "loopback only"
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        assert self._reader is not None and self._writer is not None
        payload = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if self.authorization:
            head += f"Authorization: {self.authorization}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        self._writer.write(head.encode() + b"\r\n" + payload)
        header_block = await self._reader.readuntil(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
        return status, await self._reader.readexactly(length) if length else b""
