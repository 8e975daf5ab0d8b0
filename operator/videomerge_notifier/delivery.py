"""One delivery attempt: a signed POST with bounded time, reduced to an outcome a person can read."""

import asyncio
import json
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

import httpx

from videomerge_notifier.guard import RefusedUrlError, check_scheme
from videomerge_notifier.schedule import AttemptOutcome
from videomerge_notifier.signing import signed_headers

USER_AGENT: Final = "videomerge-notifier/0.1"
MAX_ERROR: Final = 500


def body_bytes(body: dict[str, object]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def where(url: str) -> str:
    """The URL without its query (which may carry a token) for messages and Events."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


async def attempt(
    client: httpx.AsyncClient,
    url: str,
    webhook_id: str,
    body: bytes,
    secret: str,
    now: datetime,
    deadline_seconds: float,
) -> AttemptOutcome:
    """POST once; never raises for anything the receiver or the network does."""
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signed_headers(secret, webhook_id, body, now),
    }
    try:
        check_scheme(url)
        async with asyncio.timeout(deadline_seconds):
            # Only the status matters; the receiver's body is not read.
            async with client.stream("POST", url, content=body, headers=headers) as response:
                code = response.status_code
    except RefusedUrlError as exc:
        return AttemptOutcome(False, error=f"callback URL refused: {exc}"[:MAX_ERROR], permanent=True)
    except TimeoutError:
        return AttemptOutcome(False, error=f"no answer within {deadline_seconds:g} s")
    except httpx.TimeoutException as exc:
        return AttemptOutcome(False, error=f"timed out ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return AttemptOutcome(False, error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    except OSError as exc:
        return AttemptOutcome(False, error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    if 200 <= code <= 299:
        return AttemptOutcome(True, status_code=code)
    if 300 <= code <= 399:
        return AttemptOutcome(False, status_code=code, error=f"HTTP {code}: redirects are not followed")
    return AttemptOutcome(False, status_code=code, error=f"HTTP {code}")
