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
from stackgen.layers.profiles import Profile, ProfileInfo, Texts, reread_profile, resolve
from stackgen.records import dataclass


@dataclass(frozen=True)
class Composition:
    """The merged inputs of one build, the model made from them, and any warnings.

    `profiles`, `tree` and `runners` are made again from the texts the build read when
    first asked for (by `explain`, or a render's error message), unless `assemble` was
    asked to keep them: kept, a 10,000-runner fleet's (20 MB of values) raised the peak
    memory of rendering it by 8 MB, for what a successful build never reads again."""

    site: Site
    fleet: m.Fleet
    findings: tuple[Finding, ...]
    layers: Layers  # what `profiles`, `tree` and `runners` are made of

    @property
    def profiles(self) -> tuple[Profile, ...]:
        return self.layers.merged()[0]

    @property
    def tree(self) -> Val:
        """The merged layers, with provenance (what `explain` shows)."""
        return self.layers.merged()[2]

    @property
    def runners(self) -> Mapping[str, Val]:
        """Each runner's effective settings (defaults folded in)."""
        return EffectiveRunners(self.layers.merged()[1], self.layers.defined)


class Layers:
    """A build's inputs as read: each profile's text, the site file, the `--set` layers.

    `merged()` folds them again as the build did; the texts are those it read, with the
    origins it read them under, so values, positions and messages are the same."""

    def __init__(self, infos: list[ProfileInfo], texts: Texts, closure: dict[str, frozenset[str]],
                 site: Site, sets: list[Val], defined: list[str]) -> None:
        self.infos, self.texts, self.closure = infos, texts, closure
        self.site, self.sets, self.defined = site, sets, defined
        self.kept: tuple[tuple[Profile, ...], Val, Val] | None = None

    def merged(self) -> tuple[tuple[Profile, ...], Val, Val]:
        """The profiles, the merged tree with `!remove` markers, and without them."""
        if self.kept is None:
            profiles = tuple(reread_profile(i, *self.texts[i.name]) for i in self.infos)
            marked, _ = _fold(profiles, self.closure, self.site, self.sets)  # no problem: none then
            self.kept = (profiles, marked, finish(marked))
        return self.kept

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Layers):
            return NotImplemented
        return (self.infos, self.texts, self.closure, self.site, self.sets) == (
            other.infos, other.texts, other.closure, other.site, other.sets)

    __hash__ = None  # type: ignore[assignment]  # equal when equal, as a dataclass would be


def assemble(
    profiles: Sequence[str],
    site: str | Path | None = None,
    sets: Sequence[str] = (),
    profile_dirs: Sequence[str | Path] = (),
    *,
    keep_layers: bool = False,
) -> Composition:
    """Read and merge everything for one build; raises UserError listing every problem.
    `keep_layers` keeps the merged layers in the Composition, for a caller that will read
    them (`explain`), rather than making them again then."""
    from stackgen.bulk import collector_paused

    with collector_paused():
        return _assemble(profiles, site, sets, profile_dirs, keep_layers)


def _assemble(
    profiles: Sequence[str],
    site: str | Path | None,
    sets: Sequence[str],
    profile_dirs: Sequence[str | Path],
    keep_layers: bool,
) -> Composition:
    if not profiles:
        from stackgen.errors import Problem, UserError

        raise UserError(Problem("name at least one profile", Origin("flag", "command line")))
    texts: Texts = {}
    ordered, closure = resolve(profiles, profile_dirs, texts)
    site_obj = read_site(site)
    set_layers = parse_sets(sets)
    marked, problems = _fold(ordered, closure, site_obj, set_layers)
    problems.raise_if_any()
    defined = _defined_runners(ordered)
    _check_runner_names(marked, defined, problems)
    problems.raise_if_any()
    # made one at a time as the builder reads them, and again only for a message
    runners = EffectiveRunners(marked, defined)
    tree = finish(marked)
    builder = FleetBuilder(tree, runners, site_obj)
    fleet = builder.build()
    from stackgen.fleet.lint import lint, runner_waivers
    from stackgen.fleet.validate import fleet_problems, locator

    where = locator(tree, runners)
    problems.extend(fleet_problems(fleet, where))  # what the consumers would reject
    problems.raise_if_any()
    findings = [*builder.findings, *lint(fleet, runner_waivers(ordered, defined), where)]
    layers = Layers([p.info for p in ordered], texts, closure, site_obj, set_layers, defined)
    if keep_layers:
        layers.kept = (tuple(ordered), marked, tree)
    return Composition(site_obj, fleet, tuple(findings), layers)


def _fold(profiles: Sequence[Profile], closure: dict[str, frozenset[str]], site: Site,
          sets: list[Val]) -> tuple[Val, Problems]:
    """The layers merged, `!remove` markers kept for the runners' `defaults:` (see finish)."""
    defaults = from_plain(DEFAULTS, DEFAULT)
    layers = [defaults, *(p.doc for p in profiles), site.doc, *sets]
    marked, problems = fold(layers, closure, markers=True)
    return with_defaults(marked, defaults), problems


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
