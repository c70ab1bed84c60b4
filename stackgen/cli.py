"""The `stackgen` command: a thin layer over the library that prints and exits.

Exit codes and how errors are shown: stackgen.console. `build` itself is
stackgen.build_command, which the front door may also run without click
(stackgen.fast_build).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from stackgen.build_command import note_site
from stackgen.console import echo, end_with, fail, run_action, warn
from stackgen.targets import TARGETS

F = TypeVar("F", bound=Callable[..., Any])


# the cache key under which this run keeps its output (see stackgen.launch), if it may
_MEMO: tuple[object, ...] | None = None


def run(args: list[str], prog: str, memo: tuple[object, ...] | None = None) -> None:
    """The command line `args`, from the front door (stackgen.launch), which found no kept
    output under `memo`."""
    global _MEMO
    _MEMO = memo
    main(args, prog_name=prog)


def _remember(text: str) -> None:
    """Keep the output of a run the front door may answer next time."""
    if _MEMO is not None:
        from stackgen.cache import folder, store

        store(folder("commands"), _MEMO, text)


def _output_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is None:
        return None
    if not value.strip():  # Path("") is ".": an empty -o would build into the working directory
        raise click.BadParameter("the output directory must not be empty", ctx, param)
    return Path(value)  # "-" means standard output, as for helm template and kustomize


def _complete_profiles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    from stackgen.layers.profiles import discover

    dirs = ctx.params.get("profile_dirs") or ()
    return [CompletionItem(name) for name in sorted(discover(dirs)) if name.startswith(incomplete)]


def input_options(func: F) -> F:
    """Options every command that composes profiles shares."""
    for option in reversed(
        [
            click.option("-f", "--site", "site", type=click.Path(dir_okay=False, path_type=Path),
                         help="Site file (default: ./stackgen.yaml, else the built-in example site)."),
            click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                         help="Override a value, applied last (repeatable), e.g. manager.concurrent=8."),
            click.option("--profiles-dir", "profile_dirs", multiple=True,
                         type=click.Path(file_okay=False, path_type=Path),
                         help="Extra profile directory, searched before the built-ins (repeatable; "
                              "also $STACKGEN_PROFILE_PATH)."),
        ]
    ):
        func = option(func)
    return func


class Context:
    def __init__(self, debug: bool) -> None:
        self.debug = debug


class _Choice(click.Choice):  # type: ignore[type-arg]
    """A choice whose refusal names the closest choice."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            from stackgen.errors import did_you_mean

            hint = did_you_mean(str(value), [str(c) for c in self.choices])
            choices = ", ".join(str(c) for c in self.choices)
            self.fail(f"{value!r} is not one of {choices}" + (f" ({hint})" if hint else ""),
                      param, ctx)


def _debug(ctx: click.Context) -> bool:
    return isinstance(ctx.obj, Context) and ctx.obj.debug


class _Main(click.Group):
    """Usage mistakes in a command (a misspelt --target, a missing argument) are reported
    like every other error: one `stackgen: error:` line and exit code 2."""

    def get_help(self, ctx: click.Context) -> str:
        text = super().get_help(ctx)
        _remember(text + "\n")  # as --help echoes it
        return text

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if _debug(ctx):
                raise
            path = exc.ctx.command_path if exc.ctx else "stackgen"
            message = " ".join(exc.format_message().split())  # click wraps choice lists
            fail([f"{message} (see {path} --help)"])
        except (click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a refusal, a closed stdout, or a bug: one line each
            if _debug(ctx):
                raise
            end_with(exc)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", "--traceback", "debug", is_flag=True,
              help="Show the traceback of an error (for bug reports).")
@click.version_option(package_name="stackgen")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Compose named profiles into every file a self-hosted GitLab Runner fleet needs."""
    ctx.obj = Context(debug)
    if not debug:  # a library's deprecation notice is not the user's business
        import warnings

        warnings.simplefilter("ignore", DeprecationWarning)


def _run(ctx: click.Context, action: Callable[[], None]) -> None:
    run_action(action, ctx.obj.debug)


@main.command()
@click.argument("profiles", nargs=-1, required=True, shell_complete=_complete_profiles)
@click.option("-t", "--target", type=_Choice(list(TARGETS)), required=True,
              help="What to generate.")
@input_options
@click.option("-o", "--output", callback=_output_path,
              help="Output directory (default: build/<target>); - prints to standard output.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the files instead of writing them.")
@click.option("--only", "only", metavar="PATH",
              help="Only this generated file (e.g. stack.yml); with -o - it is printed as is, "
                   "so `-o - --only stack.yml | docker stack deploy -c - NAME` works.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 and print a diff if the output directory differs from "
                   "what would be generated (a drift gate for Make and CI).")
@click.option("--diff", "show_diff", is_flag=True,
              help="Write nothing; print a unified diff of what a build would change.")
@click.option("--force", is_flag=True,
              help="Replace generated files edited by hand and files stackgen did not write, "
                   "and delete edited stale ones.")
@click.pass_context
def build(ctx: click.Context, profiles: tuple[str, ...], target: str, site: Path | None,
          sets: tuple[str, ...], profile_dirs: tuple[Path, ...], output: Path | None,
          to_stdout: bool, only: str | None, check: bool, show_diff: bool, force: bool) -> None:
    """Generate the files of TARGET for PROFILES."""
    from stackgen import fast_build
    from stackgen.build_command import build as run_build

    fast_build.keep(build_spec(ctx))
    _run(ctx, lambda: run_build(profiles, target, site, sets, profile_dirs, output, to_stdout, only,
                                check, show_diff, force))


def build_spec(ctx: click.Context) -> dict[str, object] | None:
    """`build`'s parameters as stackgen.fast_build reads them, taken from click's objects;
    None if one is of a kind it does not read."""
    options: list[dict[str, object]] = []
    positional: tuple[str | None, bool] | None = None
    for p in build.params:
        if isinstance(p, click.Argument):
            if positional or p.nargs != -1 or not isinstance(p.type, click.types.StringParamType):
                return None
            positional = (p.name, p.required)
            continue
        if (not isinstance(p, click.Option) or p.secondary_opts or p.nargs != 1 or p.envvar
                or p.prompt or p.is_eager or not p.expose_value or p.count or p.hidden):
            return None
        option: dict[str, object] = {"dest": p.name, "opts": list(p.opts), "flag": p.is_flag,
                                     "multiple": p.multiple, "required": p.required}
        kind = p.type
        if p.is_flag:
            if not isinstance(kind, click.types.BoolParamType) or p.callback or p.required:
                return None
            option["kind"] = "flag"  # that it sets True is asked of click below
        elif p.callback is _output_path and isinstance(kind, click.types.StringParamType):
            option["kind"] = "output"
        elif p.callback is not None:
            return None
        elif isinstance(kind, click.Choice) and kind.case_sensitive:
            option.update(kind="choice", choices=[str(c) for c in kind.choices])
        elif (isinstance(kind, click.Path) and kind.type is Path and not (
                kind.exists or kind.resolve_path or kind.allow_dash or kind.writable or kind.executable)):
            option.update(kind="path", file_okay=kind.file_okay, dir_okay=kind.dir_okay,
                          readable=kind.readable)
        elif isinstance(kind, click.types.StringParamType):
            option["kind"] = "str"
        else:
            return None
        if option["required"] and option["kind"] != "choice":
            return None
        options.append(option)
    if positional is None:
        return None
    # what click passes for what is not given, and for a flag given, asked of click itself
    given = ["x", *(arg for o in options if o["required"]
                    for arg in (o["opts"][0], o["choices"][0]))]  # type: ignore[index]
    absent = build.make_context("build", list(given), parent=ctx.parent).params  # click pops
    flags = [o for o in options if o["flag"]]
    flagged = build.make_context("build", given + [o["opts"][0] for o in flags],  # type: ignore[index]
                                 parent=ctx.parent).params
    if any(flagged[o["dest"]] is not True for o in flags):  # type: ignore[index]
        return None
    return {"options": options, "positional": positional,
            "absent": {k: v for k, v in absent.items() if k != positional[0]
                       and not any(o["dest"] == k and o["required"] for o in options)}}


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      help="text for people, json for scripts.")


def _json(data: object) -> None:
    import json

    _echo_kept(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _echo_kept(text: str) -> None:
    echo(text, nl=False)
    _remember(text)


@main.command(name="list")
@click.option("--profiles-dir", "profile_dirs", multiple=True,
              type=click.Path(file_okay=False, path_type=Path))
@FORMAT
@click.pass_context
def list_cmd(ctx: click.Context, profile_dirs: tuple[Path, ...], fmt: str) -> None:
    """Show the profiles (built-in and user) and the targets."""

    def action() -> None:
        from stackgen.api import list_profiles, list_targets

        summaries = list_profiles(profile_dirs)
        if fmt == "json":
            _json({
                "profiles": [{"name": s.name, "description": s.description, "builtin": s.builtin,
                              "path": None if s.builtin else str(s.path)} for s in summaries],
                "targets": [{"name": n, "description": d} for n, d in list_targets().items()],
            })
            return
        width = max((len(s.name) for s in summaries), default=0)
        lines = ["Profiles:"]
        for s in summaries:
            where = "" if s.builtin else f"  [{s.path}]"
            lines.append(f"  {s.name:<{width}}  {s.description}{where}")
        lines.append("Targets:")
        tw = max(len(t) for t in TARGETS)
        lines += [f"  {name:<{tw}}  {desc}" for name, desc in list_targets().items()]
        _echo_kept("\n".join(lines) + "\n")

    _run(ctx, action)


@main.command()
@click.argument("args", nargs=-1, required=True, metavar="PROFILE... [KEY]",
                shell_complete=_complete_profiles)
@input_options
@FORMAT
@click.pass_context
def explain(ctx: click.Context, args: tuple[str, ...], site: Path | None, sets: tuple[str, ...],
            profile_dirs: tuple[Path, ...], fmt: str) -> None:
    """Show each resulting value and where it came from (file:line, --set or default)."""

    def action() -> None:
        from stackgen.api import explain as explain_values
        from stackgen.layers.profiles import discover

        known = discover(profile_dirs)
        profiles, key = list(args), None
        if len(args) > 1 and args[-1] not in known:
            profiles, key = list(args[:-1]), args[-1]
        rows = explain_values(profiles, key, site, sets, profile_dirs)
        if fmt == "json":
            _json([{"key": r.key, "value": r.value, "origin": str(r.origin),
                    **({"rule": r.rule} if r.rule else {})} for r in rows])
            return
        for row in rows:
            echo(str(row))

    _run(ctx, action)


@main.command()
@click.argument("profiles", nargs=-1, required=True, shell_complete=_complete_profiles)
@input_options
@click.pass_context
def validate(ctx: click.Context, profiles: tuple[str, ...], site: Path | None,
             sets: tuple[str, ...], profile_dirs: tuple[Path, ...]) -> None:
    """Check PROFILES with the site file and render every target, writing nothing."""

    def action() -> None:
        from stackgen.api import render_composition
        from stackgen.errors import SecretLeak, UserError
        from stackgen.fleet.assemble import assemble

        composition = assemble(profiles, site, sets, profile_dirs)
        note_site(composition, site)
        warn(composition.findings)
        refused: dict[str, UserError] = {}
        for target in TARGETS:
            try:
                render_composition(composition, target)  # secrets checked there: an error
            except SecretLeak:
                raise
            except UserError as refusal:
                # a target may refuse what its consumer cannot do (helm: the docker socket);
                # the profiles are still valid for the other targets
                refused[target] = refusal
        if len(refused) == len(TARGETS):
            fail([p for error in refused.values() for p in error.problems])
        for target, error in refused.items():
            warn([f"not for --target {target}: {p}" for p in error.problems])
        rendered = [t for t in TARGETS if t not in refused]
        echo(f"ok: {' '.join(profiles)} renders for {', '.join(rendered)}")

    _run(ctx, action)


@main.command()
@click.option("--kind", type=click.Choice(["profile", "site"]), default="profile",
              help="Which file's schema to print.")
def schema(kind: str) -> None:
    """Print the JSON Schema of profile or site files (for editors and CI)."""
    from stackgen.layers.schema import schema_json

    echo(schema_json(kind), nl=False)


@main.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def init(ctx: click.Context, folder: Path) -> None:
    """Write a commented stackgen.yaml (and its JSON Schema, for editors) to start from."""

    def action() -> None:
        from stackgen.layers.schema import schema_json
        from stackgen.output.writer import create_files
        from stackgen.resources import data_dir

        folder.mkdir(parents=True, exist_ok=True)
        text = (data_dir("templates") / "site-init.yaml").read_text(encoding="utf-8")
        made = create_files(folder, {"stackgen.yaml": text,
                                     "stackgen-site.schema.json": schema_json("site")})
        for path in made:
            echo(f"stackgen: wrote {path}", err=True)
        echo("stackgen: edit stackgen.yaml, then: stackgen build PROFILE... --target T",
                   err=True)

    _run(ctx, action)
