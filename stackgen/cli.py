"""The `stackgen` command: a thin layer over the library that prints and exits.

Exit codes: 0 ok, 1 drift found by --check, 2 bad input or usage, 3 internal error (a
bug: one line asking to report it; the traceback with --debug), 141 when standard output
was closed early (`stackgen build ... -o - | head`), as for a command SIGPIPE ends. Errors are one paragraph
per problem on stderr, every line passed through the secret redaction.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from stackgen.targets import TARGETS

F = TypeVar("F", bound=Callable[..., Any])


EXIT_DRIFT, EXIT_INPUT, EXIT_BUG = 1, 2, 3
EXIT_PIPE = 128 + 13  # the shell's status for a command killed by SIGPIPE
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


def _say(kind: str, text: object) -> None:
    from stackgen.secrets import redact

    click.echo(redact(f"stackgen: {kind}: {text}"), err=True)


def _fail(problems: Sequence[object]) -> None:
    for problem in problems:
        _say("error", problem)
    sys.exit(EXIT_INPUT)


def _warn(findings: Sequence[object]) -> None:
    for finding in findings:
        _say("warning", finding)


def _output_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is None:
        return None
    if not value.strip():  # Path("") is ".": an empty -o would build into the working directory
        raise click.BadParameter("the output directory must not be empty", ctx, param)
    return Path(value)  # "-" means standard output, as for helm template and kustomize


def _note_site(composition: Any, site: Path | None) -> None:
    """Say when the built-in example site stands in for a missing ./stackgen.yaml."""
    if site is None and composition.site.builtin:
        _say("note", "no -f and no ./stackgen.yaml: using the built-in example site "
                     "(`stackgen init` writes a commented site file to start from)")


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
            _fail([f"{message} (see {path} --help)"])
        except (click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            if _debug(ctx):
                raise
            # the reader of stdout is gone: what is still buffered goes nowhere, quietly
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_PIPE)
        except Exception as exc:  # a bug, whatever it is: say so in one line
            from stackgen.errors import UserError

            if isinstance(exc, UserError) and not _debug(ctx):
                _fail(exc.problems)
            if _debug(ctx):
                raise
            _say("internal error", f"{type(exc).__name__}: {exc}")
            click.echo("stackgen: this is a bug in stackgen; please report it with the command "
                       "you ran (run it again with --debug to see the traceback)", err=True)
            sys.exit(EXIT_BUG)


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
    from stackgen.errors import UserError

    try:
        action()
    except UserError as exc:
        if ctx.obj.debug:
            raise
        _fail(exc.problems)


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
    to_stdout = to_stdout or str(output) == "-"

    def action() -> None:
        from stackgen.api import render_composition
        from stackgen.errors import Origin, Problem, UserError
        from stackgen.fleet.assemble import assemble

        if to_stdout and (check or show_diff):
            raise UserError(Problem("--stdout (-o -) cannot be combined with --check or --diff",
                                    Origin("flag", "--stdout")))
        if only is not None and not to_stdout:
            # writing one file would make the output directory's other files look stale
            raise UserError(Problem("--only prints one file: use it with -o - (or --stdout)",
                                    Origin("flag", "--only")))
        composition = assemble(profiles, site, sets, profile_dirs)
        _note_site(composition, site)
        _warn(composition.findings)
        files = render_composition(composition, target)
        if only is not None:
            files = _only(files, only)
        if to_stdout:
            for rel, text in files.items():
                if len(files) > 1:
                    click.echo(f"# --- {rel} ---")
                click.echo(text, nl=False)
            return
        out_dir = output or Path("build") / target
        if check or show_diff:
            _drift(out_dir, files, target, check)
        else:
            _write(out_dir, files, target, force)

    _run(ctx, action)


def _only(files: dict[str, str], only: str) -> dict[str, str]:
    if only in files:
        return {only: files[only]}
    from stackgen.errors import Origin, Problem, UserError, did_you_mean

    raise UserError(Problem(f"this build generates no file {only!r}", Origin("flag", "--only"),
                            hint=did_you_mean(only, files) or "files: " + ", ".join(files)))


def _drift(out_dir: Path, files: dict[str, str], target: str, check: bool) -> None:
    """--check / --diff: compare the output directory with the build, write nothing."""
    from stackgen.output.writer import preview
    from stackgen.secrets import redact

    plan = preview(out_dir, files, target)
    _warn([p for p in plan.conflicts if not p.key])  # a damaged manifest, another target
    if plan.pending:
        _warn([f"{out_dir} holds an interrupted build; the next build completes it"])
    click.echo(redact(plan.diff()), nl=False)  # the disk side may hold a pasted token
    if plan.up_to_date:
        click.echo(f"stackgen: {out_dir} is up to date", err=True)
        return
    click.echo(f"stackgen: {out_dir} differs from what stackgen would generate:", err=True)
    for line in plan.summary():
        click.echo(redact(f"  {line}"), err=True)
    if check:
        click.echo("stackgen: run the same command without --check to update it", err=True)
        sys.exit(EXIT_DRIFT)


def _write(out_dir: Path, files: dict[str, str], target: str, force: bool) -> None:
    from stackgen.output.outdir import MANIFEST as MANIFEST_NAME
    from stackgen.output.writer import write
    from stackgen.targets import sensitive_files

    # `files` come from render_composition, which refused any secret value in them
    result = write(out_dir, files, target=target, sensitive=sensitive_files(target, files),
                   force=force)
    _warn(result.notes)
    if result.up_to_date:
        click.echo(f"stackgen: {out_dir} is up to date ({len(result.unchanged)} file(s))", err=True)
        return
    parts = [f"wrote {len(result.written)} file(s)" if not result.manifest_rewritten
             else f"rewrote {MANIFEST_NAME} clean"]
    if result.removed:
        parts.append(f"removed {len(result.removed)} stale file(s)")
    if result.unchanged:
        parts.append(f"{len(result.unchanged)} unchanged")
    click.echo(f"stackgen: {', '.join(parts)} in {out_dir}", err=True)


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      help="text for people, json for scripts.")


def _json(data: object) -> None:
    import json

    _echo_kept(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _echo_kept(text: str) -> None:
    click.echo(text, nl=False)
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
            click.echo(str(row))

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
        _note_site(composition, site)
        _warn(composition.findings)
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
            _fail([p for error in refused.values() for p in error.problems])
        for target, error in refused.items():
            _warn([f"not for --target {target}: {p}" for p in error.problems])
        rendered = [t for t in TARGETS if t not in refused]
        click.echo(f"ok: {' '.join(profiles)} renders for {', '.join(rendered)}")

    _run(ctx, action)


@main.command()
@click.option("--kind", type=click.Choice(["profile", "site"]), default="profile",
              help="Which file's schema to print.")
def schema(kind: str) -> None:
    """Print the JSON Schema of profile or site files (for editors and CI)."""
    from stackgen.layers.schema import schema_json

    click.echo(schema_json(kind), nl=False)


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
            click.echo(f"stackgen: wrote {path}", err=True)
        click.echo("stackgen: edit stackgen.yaml, then: stackgen build PROFILE... --target T",
                   err=True)

    _run(ctx, action)
