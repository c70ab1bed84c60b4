"""What the `stackgen` command prints, and how it ends.

Shared by the click application (stackgen.cli) and the front door's fast path for `build`
(stackgen.fast_build), which runs without click: so this module does not import it.
Errors are one paragraph per problem on stderr, every line passed through the secret
redaction.

Exit codes: 0 ok, 1 drift found by --check, 2 bad input or usage, 3 internal error (a
bug: one line asking to report it; the traceback with --debug), 141 when standard output
was closed early (`stackgen build ... -o - | head`), as for a command SIGPIPE ends.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import NoReturn

EXIT_DRIFT, EXIT_INPUT, EXIT_BUG = 1, 2, 3
EXIT_PIPE = 128 + 13  # the shell's status for a command killed by SIGPIPE


def echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    """`text` on stdout (or stderr), flushed at once so the two interleave as written."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n" if nl else text)
    stream.flush()


def say(kind: str, text: object) -> None:
    from stackgen.secrets import redact

    echo(redact(f"stackgen: {kind}: {text}"), err=True)


def fail(problems: Sequence[object]) -> NoReturn:
    for problem in problems:
        say("error", problem)
    sys.exit(EXIT_INPUT)


def warn(findings: Sequence[object]) -> None:
    for finding in findings:
        say("warning", finding)


def run_action(action: Callable[[], None], debug: bool) -> None:
    """A command's work: refusals of its input are reported, not raised (unless `debug`)."""
    from stackgen.errors import UserError

    try:
        action()
    except UserError as exc:
        if debug:
            raise
        fail(exc.problems)


def end_with(exc: Exception) -> NoReturn:
    """End the command on an exception that escaped it (and --debug did not ask to see): a
    refusal is reported, a closed stdout ends it quietly, anything else is a bug."""
    from stackgen.errors import UserError

    if isinstance(exc, UserError):
        fail(exc.problems)
    if isinstance(exc, BrokenPipeError):
        # the reader of stdout is gone: what is still buffered goes nowhere, quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_PIPE)
    say("internal error", f"{type(exc).__name__}: {exc}")
    echo("stackgen: this is a bug in stackgen; please report it with the command "
         "you ran (run it again with --debug to see the traceback)", err=True)
    sys.exit(EXIT_BUG)
