"""Downloads the merged file from its (presigned) URL, with a progress bar on a terminal."""

import contextlib
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from videomerge_cli.model import unreachable, usage_error


def download(url: str, target: Path, console: Console, show_bar: bool) -> int:
    """Streams ``url`` to ``target`` (written whole or not at all); returns the byte count."""
    partial = target.with_name(f".{target.name}.part")
    written = 0
    try:
        # No Authorization header here: a presigned URL carries its own signature.
        with (
            httpx.stream("GET", url, timeout=60, follow_redirects=True) as answer,
            Progress(
                TextColumn("downloading"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=console,
                transient=True,
                disable=not show_bar,
            ) as progress,
        ):
            if not answer.is_success:
                raise unreachable(f"the merged file could not be downloaded: HTTP {answer.status_code}")
            total = int(answer.headers.get("content-length") or 0) or None
            bar = progress.add_task("download", total=total)
            with partial.open("wb") as out:
                for chunk in answer.iter_bytes(1 << 20):
                    out.write(chunk)
                    written += len(chunk)
                    progress.update(bar, completed=written)
        partial.replace(target)
        return written
    except httpx.HTTPError as error:
        raise unreachable(f"the merged file could not be downloaded: {error}") from None
    except OSError as error:
        raise usage_error(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
