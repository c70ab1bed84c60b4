"""The `stackgen` command's front door (the console script and `python -m stackgen`).

`stackgen --help` and `stackgen list` print what only the installed package, the profile
files and a few environment variables decide, and they run in Make targets and shell
completion setups, where start-up is most of their time. Their output is kept in the cache
(stackgen.cache) under a key made of everything it depends on, and printed from there while
that key holds. Every other command, and any miss, goes to the click application in
stackgen.cli, which also fills the cache. This module imports only builtins: loading
click alone takes about four times Python's own start-up.
"""

from __future__ import annotations

import os
import sys

from stackgen import cache
from stackgen.resources import data_path, profile_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

# what gettext (click's "Usage:", "Options:") reads to pick a language
_LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
_LIST_FORMATS = (["list"], ["list", "--format", "text"], ["list", "--format", "json"],
                 ["list", "--format=text"], ["list", "--format=json"])


def main(prog: str | None = None) -> None:
    """Run `stackgen` with the process's arguments."""
    args = sys.argv[1:]
    prog = prog or os.path.basename(sys.argv[0])
    key = memo_key(args, prog)
    if key is not None:
        text = cache.load(cache.folder("commands"), key)
        if isinstance(text, str):
            sys.stdout.write(text)
            sys.stdout.flush()
            return
    from stackgen.cli import run

    run(args, prog, key)


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
