"""`stackgen build`: compose, render, then print, compare or write.

Called by the click command (stackgen.cli) and by the front door's fast path
(stackgen.fast_build) with the same parameters, so it does not import click.
"""

from __future__ import annotations

import sys
from pathlib import Path

from stackgen.console import EXIT_DRIFT, echo, say, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from stackgen.fleet.assemble import Composition


def build(profiles: Sequence[str], target: str, site: Path | None, sets: Sequence[str],
          profile_dirs: Sequence[Path], output: Path | None, to_stdout: bool, only: str | None,
          check: bool, show_diff: bool, force: bool) -> None:
    """The files of `target` for `profiles`; refusals raise UserError."""
    from stackgen.api import render_composition
    from stackgen.errors import Origin, Problem, UserError
    from stackgen.fleet.assemble import assemble

    to_stdout = to_stdout or str(output) == "-"
    if to_stdout and (check or show_diff):
        raise UserError(Problem("--stdout (-o -) cannot be combined with --check or --diff",
                                Origin("flag", "--stdout")))
    if only is not None and not to_stdout:
        # writing one file would make the output directory's other files look stale
        raise UserError(Problem("--only prints one file: use it with -o - (or --stdout)",
                                Origin("flag", "--only")))
    composition = assemble(profiles, site, sets, profile_dirs)
    note_site(composition, site)
    warn(composition.findings)
    files = render_composition(composition, target)
    if only is not None:
        files = _only(files, only)
    if to_stdout:
        for rel, text in files.items():
            if len(files) > 1:
                echo(f"# --- {rel} ---")
            echo(text, nl=False)
        return
    out_dir = output or Path("build") / target
    if check or show_diff:
        _drift(out_dir, files, target, check)
    else:
        _write(out_dir, files, target, force)


def note_site(composition: Composition, site: Path | None) -> None:
    """Say when the built-in example site stands in for a missing ./stackgen.yaml."""
    if site is None and composition.site.builtin:
        say("note", "no -f and no ./stackgen.yaml: using the built-in example site "
                    "(`stackgen init` writes a commented site file to start from)")


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
    warn([p for p in plan.conflicts if not p.key])  # a damaged manifest, another target
    if plan.pending:
        warn([f"{out_dir} holds an interrupted build; the next build completes it"])
    echo(redact(plan.diff()), nl=False)  # the disk side may hold a pasted token
    if plan.up_to_date:
        echo(f"stackgen: {out_dir} is up to date", err=True)
        return
    echo(f"stackgen: {out_dir} differs from what stackgen would generate:", err=True)
    for line in plan.summary():
        echo(redact(f"  {line}"), err=True)
    if check:
        echo("stackgen: run the same command without --check to update it", err=True)
        sys.exit(EXIT_DRIFT)


def _write(out_dir: Path, files: dict[str, str], target: str, force: bool) -> None:
    from stackgen.output.outdir import MANIFEST as MANIFEST_NAME
    from stackgen.output.writer import write
    from stackgen.targets import sensitive_files

    # `files` come from render_composition, which refused any secret value in them
    result = write(out_dir, files, target=target, sensitive=sensitive_files(target, files),
                   force=force)
    warn(result.notes)
    if result.up_to_date:
        echo(f"stackgen: {out_dir} is up to date ({len(result.unchanged)} file(s))", err=True)
        return
    parts = [f"wrote {len(result.written)} file(s)" if not result.manifest_rewritten
             else f"rewrote {MANIFEST_NAME} clean"]
    if result.removed:
        parts.append(f"removed {len(result.removed)} stale file(s)")
    if result.unchanged:
        parts.append(f"{len(result.unchanged)} unchanged")
    echo(f"stackgen: {', '.join(parts)} in {out_dir}", err=True)
