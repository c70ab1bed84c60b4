"""`stackgen build` without loading click, for the command lines click would read plainly.

`build` runs in Make targets and pre-commit hooks, where start-up is much of its time, and
loading click is about a seventh of a short build. click stays the command's definition:
after a `build` it has parsed, stackgen.cli keeps a description of the command's options
(`keep`), taken from click's own objects, in the cache. While that description is current
(same stackgen, same click), the front door parses `build ARGS` with it, and runs
stackgen.build_command as the click command would.

Only the plain forms are read here: `--name value`, `--name=value`, `-n value`, flags and
profile names. Anything else (help, an unknown or repeated option, a value that looks like
an option, a bad choice, a path of the wrong kind, `--`, shell completion) goes to click,
which reports it as always. tests/test_fast_build.py checks on generated command lines that
what this reads is what click reads.
"""

from __future__ import annotations

import os
import stat
import sys

from stackgen import cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

Spec = dict[str, object]  # see stackgen.cli.build_spec


def _key() -> tuple[object, ...]:
    return ("build-spec", cache.package_stamp(), cache.library_stamp(["click/__init__.py"]))


def keep(spec: Spec | None) -> None:
    """Keep `spec` for the next runs (None: this click's `build` is not one to read here)."""
    where = cache.folder("commands")
    if cache.load(where, _key()) != spec:
        cache.store(where, _key(), spec)


def parse(args: Sequence[str]) -> dict[str, object] | None:
    """The parameters click would pass to `build` for `args`, or None to let click read them."""
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ):
        return None  # shell completion is click's
    spec = cache.load(cache.folder("commands"), _key())
    if not isinstance(spec, dict):
        return None
    try:
        return _parse(list(args), spec)
    except (KeyError, TypeError, ValueError, OSError):  # a spec of another shape
        return None


def _parse(args: list[str], spec: Spec) -> dict[str, object] | None:
    declared: list[dict[str, object]] = spec["options"]  # type: ignore[assignment]
    absent: dict[str, object] = spec["absent"]  # type: ignore[assignment]
    profiles_spec: tuple[str, bool] = spec["positional"]  # type: ignore[assignment]
    dest_of_profiles, profiles_required = profiles_spec
    options = {name: option for option in declared for name in option["opts"]}  # type: ignore[attr-defined]
    found: dict[str, object] = {}
    positional: list[str] = []
    tokens = iter(args)
    for token in tokens:
        if token == "-" or not token.startswith("-"):
            positional.append(token)
            continue
        name, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        option = options.get(name)
        if option is None:
            return None  # --help, --, -tswarm, an unknown or misspelt option: click says
        dest = str(option["dest"])
        if option["flag"]:
            if eq:
                return None
            parsed: object = True
        else:
            if not eq:
                following = next(tokens, None)
                if following is None or following.startswith("-") and following != "-":
                    return None  # missing, or one click would take as the value: click says
                value = following
            parsed = _convert(option, value)
            if parsed is None:
                return None
        if option["multiple"]:
            found[dest] = (*found.get(dest, ()), parsed)  # type: ignore[misc]
        elif dest in found:
            return None  # click keeps the last one: rare enough to leave to it
        else:
            found[dest] = parsed
    if profiles_required and not positional:
        return None
    if any(option["required"] and option["dest"] not in found for option in declared):
        return None
    return {**absent, dest_of_profiles: tuple(positional), **found}


def _convert(option: dict[str, object], value: str) -> object | None:
    """`value` as click's type for `option` converts it, or None where click would refuse."""
    kind = option["kind"]
    if kind == "str":
        return value
    if kind == "choice":
        return value if value in option["choices"] else None  # type: ignore[operator]
    if kind == "output":  # stackgen.cli._output_path
        from pathlib import Path

        return Path(value) if value.strip() else None
    if kind == "path":
        from pathlib import Path

        try:
            st = os.stat(value)
        except OSError:
            return Path(value)  # click's Path(exists=False) takes a missing path as it is
        if (not option["file_okay"] and stat.S_ISREG(st.st_mode)
                or not option["dir_okay"] and stat.S_ISDIR(st.st_mode)
                or option["readable"] and not os.access(value, os.R_OK)):
            return None
        return Path(value)
    return None


def run(params: dict[str, object]) -> None:
    """`build` with `params`, as the click command runs it (without --debug)."""
    import warnings

    from stackgen.build_command import build
    from stackgen.console import echo, end_with, run_action

    warnings.simplefilter("ignore", DeprecationWarning)  # as stackgen.cli.main does
    try:
        run_action(lambda: build(**params), debug=False)  # type: ignore[arg-type]
    except (EOFError, KeyboardInterrupt):  # as click ends on one
        echo(err=True)
        echo("Aborted!", err=True)
        sys.exit(1)
    except Exception as exc:  # a refusal, a closed stdout, or a bug: one line each
        end_with(exc)
