"""The `stackgen` command's front door (the console script and `python -m stackgen`).

`stackgen --help` and `stackgen list` print what only the installed package, the profile
files and a few environment variables decide, and they run in Make targets and shell
completion setups, where start-up is most of their time. Their output is kept in the cache
(stackgen.cache) under a key made of everything it depends on, and printed from there while
that key holds. `build`, the command Make targets and hooks run most, is read without click
when its command line is a plain one (stackgen.fast_build). Every other command, and any
miss, goes to the click application in stackgen.cli, which also fills the cache. This
module imports only builtins: loading click alone takes about four times Python's own
start-up.
"""

from __future__ import annotations

import gc
import os
import sys

from stackgen import cache
from stackgen.resources import data_path, profile_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

# what gettext (click's "Usage:", "Options:") reads to pick a language
_LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
_LIST_FORMATS = (["list"], ["list", "--format", "text"], ["list", "--format", "json"],
                 ["list", "--format=text"], ["list", "--format=json"])


def main(prog: str | None = None) -> None:
    """Run `stackgen` with the process's arguments, and end the process."""
    args = sys.argv[1:]
    prog = prog or os.path.basename(sys.argv[0])
    key = memo_key(args, prog)
    if key is not None:
        text = cache.load(cache.folder("commands"), key)
        if isinstance(text, str):
            sys.stdout.write(text)
            _exit(None)
    if args[:1] == ["build"]:  # its plain forms are read without click (stackgen.fast_build)
        from stackgen import fast_build

        params = fast_build.parse(args[1:])
        if params is not None:
            try:
                fast_build.run(params)
            except SystemExit as stop:
                _exit(stop.code)
            _exit(None)
    # the cyclic collector would only rescan the modules being loaded
    gc.disable()
    from stackgen.cli import run

    gc.enable()

    try:
        run(args, prog, key)
    except SystemExit as stop:
        _exit(stop.code)
    _exit(None)


def _exit(code: object) -> NoReturn:
    """End the process as `sys.exit(code)` does (exit handlers run, output is flushed, and a
    flush that fails makes the status 120), but without Python's teardown: freeing every
    module and a last full garbage collection take a build about a tenth of its time, and
    nothing needs them: every file stackgen writes is closed and committed by now."""
    import atexit

    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_handlers is None:  # not CPython: the usual way out
        raise SystemExit(code)
    run_handlers()
    if code is None or isinstance(code, int):
        status = code or 0
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe, as `stackgen list | head` may leave
            status = status or 120
    os._exit(status & 0xFF)


def memo_key(args: Sequence[str], prog: str) -> tuple[object, ...] | None:
    """Everything the output of `stackgen ARGS` depends on, for the commands whose output is
    a function of the install and the environment alone; None for every other command."""
    args = list(args)
    try:
        if args in (["--help"], ["-h"]):
            inputs: object = _terminal()  # click fits its help to the terminal's width
        elif args in _LIST_FORMATS:
            inputs = (os.getcwd(), _profile_files())  # user profiles show relative to the cwd
        else:
            return None
    except OSError:  # e.g. a deleted working directory: the command itself says what is wrong
        return None
    return (tuple(args), prog, inputs, tuple(os.environ.get(v) for v in _LOCALE_VARS),
            cache.package_stamp(), cache.library_stamp(["click/__init__.py"]))


def _terminal() -> tuple[str | None, int | None]:
    try:
        columns: int | None = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        columns = None
    return os.environ.get("COLUMNS"), columns


def _profile_files() -> tuple[tuple[str, tuple[tuple[str, int, int], ...] | None], ...]:
    """Every entry of every profile directory `list` reads, with its size and time."""
    found = []
    for folder in [*profile_path(), data_path("profiles")]:
        try:
            with os.scandir(folder) as entries:
                stats = tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size)
                                     for e in entries))
        except OSError:
            stats = None  # missing: `list` says so, and the next run asks again
        found.append((folder, stats))
    return tuple(found)
