"""The library surface: the same operations as the CLI, as plain functions returning data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stackgen.errors import Origin, Problem, SecretLeak, UserError, did_you_mean
from stackgen.records import dataclass
from stackgen.targets import TARGETS, renderer

# The build stages load on first use: `stackgen list` and `--help` need none of them.
if TYPE_CHECKING:
    from stackgen.fleet.assemble import Composition
    from stackgen.layers.located import Val
    from stackgen.model import Fleet
    from stackgen.output.outdir import Plan
    from stackgen.output.writer import WriteResult

PathLike = str | Path


@dataclass(frozen=True)
class ProfileSummary:
    """A profile as `list_profiles` shows it."""

    name: str
    description: str
    path: str
    builtin: bool


@dataclass(frozen=True)
class Explanation:
    """One resulting value of `explain`, and where it came from."""

    key: str
    value: object
    origin: Origin
    rule: str = ""  # how layers combine here, where it is not the usual one

    def __str__(self) -> str:
        import json

        text = f"{self.key} = {json.dumps(self.value, ensure_ascii=False)}  ({self.origin})"
        return f"{text}  [{self.rule}]" if self.rule else text


def list_targets() -> dict[str, str]:
    """Target names and what each one writes."""
    return {name: desc for name, (_, desc) in TARGETS.items()}


def build(
    profiles: Sequence[str],
    site: PathLike | None = None,
    sets: Sequence[str] = (),
    profile_dirs: Sequence[PathLike] = (),
) -> Fleet:
    """Compose profiles with the site file and overrides into the model. Warnings (lint,
    expiring certificates) are issued as `StackgenWarning`s; `assemble()` returns them."""
    from stackgen.fleet.assemble import assemble

    return _warned(assemble(profiles, site, sets, profile_dirs)).fleet


def _warned(composition: Composition) -> Composition:
    import warnings

    from stackgen.errors import StackgenWarning

    for finding in composition.findings:
        warnings.warn(str(finding), StackgenWarning, stacklevel=3)
    return composition


def render(fleet: Fleet, target: str) -> dict[str, str]:
    """Render the model for one target: {relative path: file text}."""
    from stackgen.fleet.validate import fleet_problems

    problems = fleet_problems(fleet)  # a model made by hand gets the checks assemble() runs
    if problems:
        raise UserError(problems)
    return _render_checked(fleet, target)


def _render_checked(fleet: Fleet, target: str) -> dict[str, str]:
    """render() for a model already validated (assemble() ran fleet_problems on it)."""
    if target not in TARGETS:
        raise UserError(
            Problem(
                f"unknown target {target!r}",
                Origin("flag", "--target"),
                hint=did_you_mean(target, TARGETS) or f"targets: {', '.join(TARGETS)}",
            )
        )
    from stackgen.bulk import collector_paused

    with collector_paused():
        files = renderer(target)(fleet)
        check_rendered(files, target)  # no secret value leaves stackgen, printed or written
    return files


def check_rendered(files: Mapping[str, str], target: str) -> None:
    """Refuse output that carries a secret value; this is stackgen's last line of defence."""
    from stackgen.secrets import secret_hits

    problems = [
        Problem(
            f"{rel}:{line}: the rendered {target} output contains a {kind}; stackgen refuses to "
            "write secret values (this is a bug or a value that slipped past the input check: "
            "please report it)",
            Origin("flag", f"--target {target}"),
        )
        for rel, line, kind in secret_hits(files)
    ]
    if problems:
        raise SecretLeak(problems)


def generate(
    profiles: Sequence[str],
    target: str,
    site: PathLike | None = None,
    sets: Sequence[str] = (),
    profile_dirs: Sequence[PathLike] = (),
) -> dict[str, str]:
    """build() then render(): every file one target needs."""
    from stackgen.fleet.assemble import assemble

    return render_composition(_warned(assemble(profiles, site, sets, profile_dirs)), target)


def render_composition(composition: Composition, target: str) -> dict[str, str]:
    """render() for an assembled build: what a target refuses is named with the file:line
    its value came from (targets see only the model, which keeps no positions)."""
    try:
        return _render_checked(composition.fleet, target)
    except SecretLeak:
        raise
    except UserError as exc:
        from dataclasses import replace

        from stackgen.fleet.validate import locator

        where = locator(composition.tree, composition.runners)

        def located(problem: Problem) -> Problem:
            origin = where(problem.key) if problem.key and not problem.origin else None
            # a key no layer set resolves to the tree's root: no better than no position
            return replace(problem, origin=origin) if origin and origin.kind != "default" else problem

        raise UserError([located(p) for p in exc.problems]) from None


def write(
    out_dir: PathLike, files: Mapping[str, str], target: str, force: bool = False
) -> WriteResult:
    """Write one target's files under `out_dir`, all or none, as `stackgen build` does:
    hand-edited or foreign files are refused unless `force`, stale ones removed."""
    from stackgen.output.writer import write as write_files
    from stackgen.targets import sensitive_files

    check_rendered(files, target)  # the last guard: nothing secret reaches the disk
    return write_files(_out(out_dir), files, target=target,
                       sensitive=sensitive_files(target, files), force=force)


def drift(out_dir: PathLike, files: Mapping[str, str], target: str) -> Plan:
    """What writing would change, reading only (`stackgen build --check`): `.changes`,
    `.diff()` and `.summary()`."""
    from stackgen.output.writer import preview

    return preview(_out(out_dir), files, target)


def _out(out_dir: PathLike) -> Path:
    if not str(out_dir).strip():  # Path("") is "." : never the working directory by accident
        raise UserError(Problem("the output directory is empty", Origin("flag", "-o/--output")))
    return Path(out_dir)


def list_profiles(profile_dirs: Sequence[PathLike] = ()) -> list[ProfileSummary]:
    """Every profile that can be named, user profiles first shadowing built-ins."""
    from stackgen.layers.profiles import discover, read_profile

    out = []
    for name, info in sorted(discover(profile_dirs).items()):
        profile = read_profile(info)
        out.append(ProfileSummary(name, profile.description, info.display, info.builtin))
    return out


ORDERED_RULE = "ordered list: a later layer replaces it whole"


def explanations(composition: Composition) -> list[Explanation]:
    """Every resulting value with its origin; runners show their effective settings."""
    out: list[Explanation] = []
    for key, val in composition.tree.value.items():
        if key not in ("defaults", "runners"):
            _rows(val, (key,), out)
    for name, runner in composition.runners.items():
        _rows(runner, ("runners", name), out)
    return out


def _rows(val: Val, path: tuple[str | int, ...], out: list[Explanation]) -> None:
    from stackgen.fleet.merge import is_ordered_list
    from stackgen.layers.located import dotted

    if isinstance(val.value, dict):
        for key, child in val.value.items():
            _rows(child, (*path, key), out)
    elif isinstance(val.value, list) and is_ordered_list(path):
        out.append(Explanation(dotted(path), val.plain(), val.origin, ORDERED_RULE))
    elif isinstance(val.value, list):
        for i, item in enumerate(val.value):
            out.append(Explanation(dotted((*path, i)), item.plain(), item.origin))
    else:
        out.append(Explanation(dotted(path), val.value, val.origin))


def explain(
    profiles: Sequence[str],
    key: str | None = None,
    site: PathLike | None = None,
    sets: Sequence[str] = (),
    profile_dirs: Sequence[PathLike] = (),
) -> list[Explanation]:
    """Resulting values and where each came from, optionally only under `key`."""
    from stackgen.fleet.assemble import assemble

    rows = explanations(assemble(profiles, site, sets, profile_dirs, keep_layers=True))
    if key is None:
        return rows
    picked = [r for r in rows if r.key == key or r.key.startswith((key + ".", key + "["))]
    if not picked:
        keys = {r.key.split("[")[0] for r in rows}
        raise UserError(
            Problem(
                f"no value {key!r} in this build",
                Origin("flag", "explain"),
                hint=did_you_mean(key, keys),
            )
        )
    return picked
