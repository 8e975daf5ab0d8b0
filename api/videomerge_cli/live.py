"""``merge --wait`` and ``watch``: a merge's progress bar, a live table of merges, and Ctrl-C."""

import sys
import time

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.prompt import Confirm

from videomerge_cli.backend import Backend
from videomerge_cli.model import CliError, ExitCode, MergeState
from videomerge_cli.render import merges_table

WATCH_REFRESH_SECONDS = 1.0


def _bar(console: Console, show: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[stage]:<11}"),
        BarColumn(bar_width=30),
        TaskProgressColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[detail]}"),
        console=console,
        disable=not show,
    )


def _detail(state: MergeState) -> str:
    # The worker's message names the clips being fetched ("downloaded 2/3 clips, 41 MiB") and the rest.
    return escape(state.message[:60])


def wait_for(backend: Backend, first: MergeState, console: Console, show_bar: bool) -> MergeState:
    """Follows the merge to its end. Ctrl-C asks whether to cancel it: yes cancels (exit 1), no goes on
    following, a second Ctrl-C (or no terminal to ask on) leaves it running (exit 130)."""
    started = time.monotonic()
    while True:
        try:
            return _follow(backend, first.task_id, console, show_bar, started)
        except KeyboardInterrupt:
            if not sys.stdin.isatty():
                raise _left_running(first.task_id) from None
            try:
                cancel = Confirm.ask(
                    f"\nCancel merge [bold]{first.task_id}[/]?", default=False, console=console
                )
            except (KeyboardInterrupt, EOFError):
                raise _left_running(first.task_id) from None
            if cancel:
                said = backend.cancel(first.task_id)
                raise CliError(
                    f"merge {first.task_id} cancelled (reason Cancelled): {said}", ExitCode.FAILED
                ) from None
            console.print("Not cancelled; following it again.")


def _left_running(task_id: str) -> CliError:
    return CliError(
        f"left merge {task_id} running; follow it with: videomerge status {task_id}", ExitCode.INTERRUPTED
    )


def _follow(backend: Backend, task_id: str, console: Console, show_bar: bool, started: float) -> MergeState:
    with _bar(console, show_bar) as progress:
        bar = progress.add_task("merge", total=100, stage="pending", detail="")
        # Elapsed counts from the first look, even when the bar is redrawn after a Ctrl-C.
        progress.tasks[0].start_time = progress.get_time() - (time.monotonic() - started)
        last: MergeState | None = None
        for state in backend.follow(task_id):
            last = state
            progress.update(
                bar,
                completed=state.progress,
                stage=state.stage or state.status,
                detail=_detail(state),
            )
    if last is None:
        raise CliError(f"merge {task_id} could not be followed", ExitCode.UNREACHABLE)
    return last


def watch_table(backend: Backend, console: Console, status: str | None, limit: int) -> None:
    """Redraws the newest merges every second until Ctrl-C."""
    title = f"merges at {backend.where} (Ctrl-C to quit)"
    try:
        with Live(console=console, auto_refresh=False, transient=False) as live:
            while True:
                live.update(merges_table(backend.list(status, limit), title), refresh=True)
                time.sleep(WATCH_REFRESH_SECONDS)
    except KeyboardInterrupt:
        return
