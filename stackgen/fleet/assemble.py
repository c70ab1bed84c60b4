"""From inputs to the model: fold the layers, then build and check the `Fleet`.

`compose()` reads profiles, the site file and `--set`, merges them (see merge.py), works
out each runner's effective settings, and hands the tree to builder.py; then it
checks the model against what the consumers accept (validate.py) and lints it (lint.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from stackgen import model as m
from stackgen.errors import DEFAULT, Finding, Origin, Problems, did_you_mean
from stackgen.fleet.builder import FleetBuilder
from stackgen.fleet.defaults import DEFAULTS
from stackgen.fleet.merge import finish, fold, merge
from stackgen.layers.inputs import Site, parse_sets, read_site
from stackgen.layers.located import Val, from_plain
from stackgen.layers.profiles import Profile, resolve
from stackgen.records import dataclass


@dataclass(frozen=True)
class Composition:
    """The merged inputs of one build, the model made from them, and any warnings."""

    profiles: tuple[Profile, ...]
    site: Site
    tree: Val  # merged layers, with provenance (what `explain` shows)
    runners: Mapping[str, Val]  # each runner's effective settings (defaults folded in)
    fleet: m.Fleet
    findings: tuple[Finding, ...]


def assemble(
    profiles: Sequence[str],
    site: str | Path | None = None,
    sets: Sequence[str] = (),
    profile_dirs: Sequence[str | Path] = (),
) -> Composition:
    """Read and merge everything for one build; raises UserError listing every problem."""
    from stackgen.bulk import collector_paused

    with collector_paused():
        return _assemble(profiles, site, sets, profile_dirs)


def _assemble(
    profiles: Sequence[str],
    site: str | Path | None,
    sets: Sequence[str],
    profile_dirs: Sequence[str | Path],
) -> Composition:
    if not profiles:
        from stackgen.errors import Problem, UserError

        raise UserError(Problem("name at least one profile", Origin("flag", "command line")))
    ordered, closure = resolve(profiles, profile_dirs)
    site_obj = read_site(site)
    set_layers = parse_sets(sets)
    defaults = from_plain(DEFAULTS, DEFAULT)
    layers = [defaults, *(p.doc for p in ordered), site_obj.doc, *set_layers]
    marked, problems = fold(layers, closure, markers=True)
    marked = with_defaults(marked, defaults)
    problems.raise_if_any()
    defined = _defined_runners(ordered)
    _check_runner_names(marked, defined, problems)
    problems.raise_if_any()
    effective = EffectiveRunners(marked, defined)
    runners = dict(effective.items())  # for the build and its checks; the Composition keeps `effective`
    tree = finish(marked)
    builder = FleetBuilder(tree, runners, site_obj)
    fleet = builder.build()
    from stackgen.fleet.lint import lint, runner_waivers
    from stackgen.fleet.validate import fleet_problems, locator

    where = locator(tree, runners)
    problems.extend(fleet_problems(fleet, where))  # what the consumers would reject
    problems.raise_if_any()
    findings = [*builder.findings, *lint(fleet, runner_waivers(ordered, defined), where)]
    return Composition(tuple(ordered), site_obj, tree, effective, fleet, tuple(findings))


def with_defaults(val: Val, default: Val) -> Val:
    """`val` with every built-in default it lacks: a section replaced as a whole (`!reset`,
    `--set manager={concurrent: 8}`, `ca: {}`, `images: null`) keeps the defaults of the
    keys it does not name, as a merged section does."""
    if not isinstance(default.value, dict):
        return val
    if val.value is None:
        return default
    if not isinstance(val.value, dict):
        return val  # a type error the schema has reported
    out = dict(val.value)
    for key, fallback in default.value.items():
        out[key] = with_defaults(out[key], fallback) if key in out else fallback
    return replace(val, value=out)


def _defined_runners(profiles: Sequence[Profile]) -> list[str]:
    names: dict[str, None] = {}  # ordered and O(1) to test
    for profile in profiles:
        section = profile.doc.get("runners")
        names.update(dict.fromkeys(section.value if section else {}))
    return list(names)


def _check_runner_names(tree: Val, defined: list[str], problems: Problems) -> None:
    # The site file may describe runners of other builds; a --set must name one of ours.
    section = tree.get("runners")
    ours = set(defined)
    for name, val in (section.value if section else {}).items():
        if name in ours:
            continue
        for _, node in _leaves(val):
            if node.src.kind == "set":
                problems.add(
                    f"no runner {name!r} in this build",
                    node.origin,
                    f"runners.{name}",
                    did_you_mean(name, defined) or f"runners here: {', '.join(defined)}",
                )
                break
    if not defined:
        problems.add(
            "these profiles define no runner: add a role profile such as default, bids or preproc",
            Origin("flag", "command line"),
        )


def _leaves(val: Val) -> list[tuple[tuple[Any, ...], Val]]:
    from stackgen.layers.located import walk

    return [(p, v) for p, v in walk(val) if not isinstance(v.value, (dict, list))]


class EffectiveRunners(Mapping[str, Val]):
    """Each runner's settings with `defaults:` under its own, made when asked for.

    Only the build, `explain` and the messages of a failed render read them: kept for the
    Composition's lifetime, a 10,000-runner fleet's were 7 MB of its peak memory. Made
    again, each is the same: the tree is immutable and the runner's own values win."""

    def __init__(self, tree: Val, names: list[str]) -> None:
        self._base = tree.get("defaults") or Val({}, DEFAULT)
        self._section = tree.get("runners")
        self._names = dict.fromkeys(names)  # ordered and O(1) to test

    def __getitem__(self, name: str) -> Val:
        if name not in self._names:
            raise KeyError(name)
        own = self._section.get(name) if self._section else None
        # a runner's own value always wins: no conflict can be recorded
        return finish(merge(self._base, own or Val({}, DEFAULT), Problems(), later_wins=True))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
