"""What the CLI prints: short lines and tables for people, JSON for scripts."""

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from videomerge_cli.model import MergeOutcome, MergeState

STATUS_STYLE = {"pending": "yellow", "processing": "cyan", "completed": "green", "failed": "red"}


def print_json(console: Console, data: Any) -> None:
    # Plain print, not rich: scripts get exactly one JSON document, without wrapping or colour.
    console.file.write(json.dumps(data, indent=2) + "\n")
    console.file.flush()


def styled_status(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


def state_line(state: MergeState) -> str:
    stage = f" {state.stage}" if state.stage and not state.finished else ""
    percent = f" {state.progress}%" if state.status == "processing" else ""
    return f"[bold]{state.task_id}[/] {styled_status(state.status)}{percent}{stage}: {escape(state.message)}"


def print_state(console: Console, state: MergeState) -> None:
    console.print(state_line(state))
    if state.created_at:
        finished = f", finished {state.completed_at}" if state.completed_at else ""
        console.print(f"  created {state.created_at}{finished}")


def size_text(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def print_outcome(console: Console, outcome: MergeOutcome) -> None:
    """A completed merge's files; a failure is printed by the caller, on stderr."""
    duration = f"{outcome.duration_seconds:g} s" if outcome.duration_seconds is not None else "?"
    console.print(
        f"[bold]{outcome.task_id}[/] [green]completed[/]: {outcome.clips_merged} clips, {duration}, "
        f"{size_text(outcome.size_bytes)}, made in {outcome.processing_time or 0:.1f} s"
    )
    for label, url in (
        ("merged", outcome.merged_url),
        ("poster", outcome.poster_url),
        ("storyboard", outcome.storyboard_url),
    ):
        if url:
            # soft_wrap: a presigned URL must stay one line a terminal can select and copy.
            console.print(f"  {label + ':':<11} {escape(url)}", soft_wrap=True, highlight=False)


def failure_text(outcome: MergeOutcome) -> str:
    return f"merge {outcome.task_id} failed: {outcome.reason}: {outcome.error}"


def merges_table(states: list[MergeState], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("TASK ID", "STATUS", "PROGRESS", "STAGE", "CREATED", "MESSAGE"):
        table.add_column(column, no_wrap=column != "MESSAGE")
    for state in states:
        table.add_row(
            state.task_id,
            styled_status(state.status),
            f"{state.progress}%",
            state.stage or "",
            state.created_at or "",
            escape(state.message),
        )
    if not states:
        table.add_row("(no merges)", "", "", "", "", "")
    return table
