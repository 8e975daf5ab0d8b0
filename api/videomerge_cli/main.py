"""``videomerge`` / ``kubectl-videomerge``: start, follow, list and cancel merges from a terminal.

Exit codes: 0 completed (or done), 1 the merge failed or was cancelled (reason on stderr), 2 usage or a
request the service refused, 3 the API or cluster unreachable. Errors are one line, never a traceback."""

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from videomerge_cli import render
from videomerge_cli.backend import Backend, MergeOptions
from videomerge_cli.download import download
from videomerge_cli.live import wait_for, watch_table
from videomerge_cli.model import CliError, ExitCode, MergeState, usage_error
from videomerge_contract import AspectRatio, Fit, Quality, RestStatus

DEFAULT_API = "http://127.0.0.1:8080"
EPILOG = f"""environment: VIDEOMERGE_URL (default {DEFAULT_API}), VIDEOMERGE_TOKEN.
exit codes: 0 completed, 1 merge failed or cancelled, 2 usage or refused request, 3 unreachable."""


def _connection_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The same options before or after the command (``videomerge --kube list`` = ``videomerge list --kube``)."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("where the merges are")
    group.add_argument(
        "--api", metavar="URL", default=default(None), help="the VideoMerge API (env VIDEOMERGE_URL)"
    )
    group.add_argument("--token", default=default(None), help="bearer token (env VIDEOMERGE_TOKEN)")
    group.add_argument(
        "--kube",
        action="store_true",
        default=default(False),
        help="talk to the cluster directly with the current kubeconfig (default as kubectl-videomerge)",
    )
    group.add_argument("-n", "--namespace", default=default(None), help="with --kube: the merges' namespace")
    group.add_argument("--context", default=default(None), help="with --kube: kubeconfig context")
    group.add_argument("--kubeconfig", default=default(None), help="with --kube: kubeconfig file")
    group.add_argument(
        "--output", choices=("text", "json"), default=default("text"), help="json: one JSON document, no bar"
    )


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Merge video clips with VideoMerge and follow them from a terminal.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _connection_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _connection_options(sub, suppress=True)
        return sub

    merge = command("merge", "start a merge of the clips at URL…, in order")
    merge.add_argument("urls", nargs="+", metavar="URL", help="http(s) URLs of the clips, in order")
    merge.add_argument("--quality", choices=[q.value for q in Quality], help="resolution cap (default high)")
    merge.add_argument(
        "--aspect-ratio", choices=[a.value for a in AspectRatio], help="output frame shape (default 16:9)"
    )
    merge.add_argument("--fit", choices=[f.value for f in Fit], help="pad or crop clips of another shape")
    merge.add_argument("--wait", action="store_true", help="follow it live until it ends")
    merge.add_argument(
        "-o", "--output-file", type=Path, metavar="FILE", help="with --wait: download the result"
    )
    wait = command("wait", "follow a merge live until it ends (like merge --wait)")
    wait.add_argument("task_id", metavar="TASK_ID")
    wait.add_argument("-o", "--output-file", type=Path, metavar="FILE", help="download the result")
    for name, help_text in (
        ("status", "a merge's status"),
        ("result", "a finished merge's files (or why it failed)"),
        ("cancel", "cancel a running merge (it ends failed, reason Cancelled); remove a finished one"),
    ):
        command(name, help_text).add_argument("task_id", metavar="TASK_ID")
    for name, help_text in (
        ("list", "recent merges, newest first"),
        ("watch", "a live table of recent merges"),
    ):
        sub = command(name, help_text)
        sub.add_argument(
            "--status", choices=[s.value for s in RestStatus], help="only merges with this status"
        )
        sub.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    return parser


class Cli:
    def __init__(self, args: argparse.Namespace, prog: str) -> None:
        self.args = args
        self.json = args.output == "json"
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)
        self.kube = args.kube or (prog.startswith("kubectl-") and args.api is None)

    def backend(self) -> Backend:
        if self.kube:
            from videomerge_cli.kube import KubeBackend  # the kubernetes client only when asked for

            return KubeBackend(self.args.namespace, self.args.context, self.args.kubeconfig)
        from videomerge_cli.rest import RestBackend

        url = self.args.api or os.environ.get("VIDEOMERGE_URL") or DEFAULT_API
        if not url.startswith(("http://", "https://")):
            raise usage_error(f"--api must be an http:// or https:// URL, not {url!r}")
        return RestBackend(url, self.args.token or os.environ.get("VIDEOMERGE_TOKEN") or None)

    def run(self) -> ExitCode:
        handler: Callable[[Backend], ExitCode] = getattr(self, f"cmd_{self.args.command}")
        backend = self.backend()
        try:
            return handler(backend)
        finally:
            backend.close()

    def cmd_merge(self, backend: Backend) -> ExitCode:
        a = self.args
        if a.output_file is not None and not a.wait:
            raise usage_error("-o/--output-file needs --wait (the file exists once the merge completed)")
        state = backend.create(MergeOptions(list(a.urls), a.quality, a.aspect_ratio, a.fit))
        if not a.wait:
            if self.json:
                render.print_json(self.out, state.raw)
            else:
                self.out.print(
                    f"Merge [bold]{state.task_id}[/] started ({len(a.urls)} clips): {state.status}"
                )
                self.out.print(f"  follow it: videomerge status {state.task_id}")
            return ExitCode.COMPLETED
        if not self.json:
            self.out.print(f"Merge [bold]{state.task_id}[/] started ({len(a.urls)} clips)")
        return self._follow(backend, state, a.output_file)

    def cmd_wait(self, backend: Backend) -> ExitCode:
        return self._follow(backend, backend.status(self.args.task_id), self.args.output_file)

    def _follow(self, backend: Backend, state: MergeState, target: Path | None) -> ExitCode:
        show_bar = not self.json and self.out.is_terminal
        console = self.err if self.json else self.out  # JSON on stdout stays one document
        final = state if state.finished else wait_for(backend, state, console, show_bar)
        if not self.json and not show_bar and final.status != "completed":
            render.print_state(self.out, final)  # a completed merge is described by its outcome below
        return self._finish(backend, final.task_id, target)

    def _finish(self, backend: Backend, task_id: str, target: Path | None) -> ExitCode:
        outcome = backend.result(task_id)
        if outcome is None:
            raise CliError(f"merge {task_id} ended without a result", ExitCode.FAILED)
        if not outcome.success:
            if self.json:
                render.print_json(self.out, outcome.raw)
            self.err.print(render.failure_text(outcome), markup=False, soft_wrap=True)
            return ExitCode.FAILED
        saved = None
        if target is not None and outcome.merged_url:
            size = download(outcome.merged_url, target, self.err, not self.json and self.err.is_terminal)
            saved = {"path": str(target), "bytes": size}
        if self.json:
            render.print_json(self.out, outcome.raw | ({"output_file": saved} if saved else {}))
            return ExitCode.COMPLETED
        render.print_outcome(self.out, outcome)
        if saved:
            self.out.print(f"Saved [bold]{target}[/] ({render.size_text(saved['bytes'])})")
        return ExitCode.COMPLETED

    def cmd_status(self, backend: Backend) -> ExitCode:
        state = backend.status(self.args.task_id)
        if self.json:
            render.print_json(self.out, state.raw)
        else:
            render.print_state(self.out, state)
        return ExitCode.FAILED if state.status == "failed" else ExitCode.COMPLETED

    def cmd_result(self, backend: Backend) -> ExitCode:
        task_id = self.args.task_id
        if backend.result(task_id) is None:
            state = backend.status(task_id)
            raise usage_error(
                f"merge {task_id} is not finished ({state.status}, {state.progress}%); "
                f"wait for it with: videomerge status {task_id}"
            )
        return self._finish(backend, task_id, None)

    def cmd_list(self, backend: Backend) -> ExitCode:
        states = backend.list(self.args.status, self._limit())
        if self.json:
            render.print_json(self.out, [s.raw for s in states])
        else:
            self.out.print(render.merges_table(states))
        return ExitCode.COMPLETED

    def cmd_watch(self, backend: Backend) -> ExitCode:
        if self.json:
            raise usage_error("watch draws a live table; scripts use: list --output json")
        watch_table(backend, self.out, self.args.status, self._limit())
        return ExitCode.COMPLETED

    def cmd_cancel(self, backend: Backend) -> ExitCode:
        message = backend.cancel(self.args.task_id)
        if self.json:
            render.print_json(self.out, {"task_id": self.args.task_id, "message": message})
        else:
            self.out.print(f"[bold]{self.args.task_id}[/]: {message}")
        return ExitCode.COMPLETED

    def _limit(self) -> int:
        if not 1 <= self.args.limit <= 500:
            raise usage_error("--limit must be between 1 and 500")
        return int(self.args.limit)


def run(argv: list[str] | None = None, prog: str | None = None) -> int:
    if prog is None:
        invoked = Path(sys.argv[0]).name
        prog = invoked if invoked.startswith(("videomerge", "kubectl-videomerge")) else "videomerge"
    args = build_parser(prog).parse_args(argv)  # exits 2 with the usage on bad arguments
    err = Console(stderr=True, highlight=False)
    try:
        return int(Cli(args, prog).run())
    except CliError as error:
        err.print(f"{prog}: {error.message}", markup=False, soft_wrap=True)
        return int(error.code)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.COMPLETED)
    except Exception as error:  # a bug: still one line, never a traceback
        err.print(f"{prog}: unexpected error: {type(error).__name__}: {error}", markup=False, soft_wrap=True)
        return int(ExitCode.UNREACHABLE)


def main() -> None:
    code = run()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        # stdout was closed early (`videomerge list | head`): say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)
