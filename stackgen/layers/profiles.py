"""Finding and reading profiles: built-in ones, user directories, includes and cycles.

Search order: directories from `--profiles-dir` (in the order given), then
`$STACKGEN_PROFILE_PATH` (os.pathsep-separated), then the built-in profiles. A user
profile with a built-in's name shadows it, as on PATH.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from stackgen.errors import Origin, Problem, Problems, UserError, did_you_mean
from stackgen.layers.located import Val, load_yaml_text, read_yaml_text
from stackgen.layers.waivers import waiver_problems  # waiver keys must name a lint rule
from stackgen.records import dataclass
from stackgen.resources import PROFILE_PATH_VAR, data_dir, display_path, profile_path


@dataclass(frozen=True)
class ProfileInfo:
    """A profile found on the search path, not yet read."""

    name: str
    path: Path
    builtin: bool

    @property
    def display(self) -> str:
        return f"profiles/{self.path.name}" if self.builtin else display_path(self.path)


@dataclass(frozen=True)
class Profile:
    """A profile read and checked: its settings and what the file says about them."""

    info: ProfileInfo
    doc: Val  # the file's content, without description/include/waivers
    description: str
    includes: tuple[Val, ...]  # each include with its position, for cycle errors
    waivers: tuple[tuple[str, str], ...]


def search_dirs(extra: Sequence[str | Path] = ()) -> list[tuple[Path, bool]]:
    dirs: list[tuple[Path, bool]] = [(Path(d), False) for d in extra]
    dirs += [(Path(d), False) for d in profile_path()]
    dirs.append((data_dir("profiles"), True))
    return dirs


def discover(extra: Sequence[str | Path] = ()) -> dict[str, ProfileInfo]:
    """All profiles by name; the first directory that has a name wins."""
    found: dict[str, ProfileInfo] = {}
    for directory, builtin in search_dirs(extra):
        if not directory.is_dir():
            if not builtin:
                flag = "--profiles-dir" if directory in map(Path, extra) else f"${PROFILE_PATH_VAR}"
                raise UserError(
                    Problem(f"profile directory not found: {directory}", Origin("flag", flag))
                )
            continue
        for path in sorted(directory.glob("*.yaml")):
            found.setdefault(path.stem, ProfileInfo(path.stem, path, builtin))
    return found


# A profile's text and the origin it was read under, by name: what a build keeps of its
# profiles to show where values came from (fleet.assemble.Layers), instead of their values.
Texts = dict[str, tuple[str, Origin]]


def read_profile(info: ProfileInfo, texts: Texts | None = None) -> Profile:
    """The profile `info` names, read and checked; its text goes into `texts` if given."""
    origin = Origin("profile", info.display, profile=info.name)
    text = read_yaml_text(info.path, origin)
    doc = load_yaml_text(text, origin)
    if not isinstance(doc.value, dict):
        raise UserError(Problem("a profile must be a mapping of keys", doc.origin))
    # The built-in profiles ship with the package and are validated by its test suite
    # (tests/test_profiles.py), so start-up need not load jsonschema to check them again.
    problems = []
    if not info.builtin:
        from stackgen.layers.schema import validate

        problems = validate(doc, "profile", info.display)
    problems += waiver_problems(doc.get("waivers"))
    if problems:
        raise UserError(problems)
    if texts is not None:
        texts[info.name] = (text, origin)
    return _profile(info, doc)


def reread_profile(info: ProfileInfo, text: str, origin: Origin) -> Profile:
    """A profile read (and checked) before, made again from its text."""
    return _profile(info, load_yaml_text(text, origin))


def _profile(info: ProfileInfo, doc: Val) -> Profile:
    body = {k: v for k, v in doc.value.items() if k not in ("description", "include", "waivers")}
    description, waivers = doc.get("description"), doc.get("waivers")  # not the whole doc.plain()
    return Profile(
        info=info,
        doc=Val(body, doc.src, doc.at),
        description="" if description is None else str(description.plain()),
        includes=tuple(doc.value["include"].value) if "include" in doc.value else (),
        waivers=tuple(sorted(waivers.plain().items())) if waivers is not None else (),
    )


def unknown_profile(name: str, known: dict[str, ProfileInfo], origin: Origin | None) -> Problem:
    hint = did_you_mean(name, known) or f"known profiles: {', '.join(sorted(known))}"
    return Problem(f"unknown profile {name!r}", origin, hint=hint)


def resolve(
    names: Sequence[str], extra_dirs: Sequence[str | Path] = (), texts: Texts | None = None
) -> tuple[list[Profile], dict[str, frozenset[str]]]:
    """Profiles in merge order (includes before includers, each once) and their include sets;
    the text of each goes into `texts` if given."""
    known = discover(extra_dirs)
    problems = Problems()
    for name in names:
        if name not in known:
            problems.items.append(unknown_profile(name, known, Origin("flag", "command line")))
    problems.raise_if_any()

    ordered: list[Profile] = []
    loaded: dict[str, Profile] = {}
    closure: dict[str, frozenset[str]] = {}

    def visit(name: str, chain: tuple[str, ...], origin: Origin | None) -> frozenset[str]:
        if name in chain:
            cycle = " -> ".join((*chain[chain.index(name):], name))
            raise UserError(Problem(f"include cycle: {cycle}", origin, "include"))
        if name in closure:
            return closure[name]
        if name not in known:
            raise UserError(unknown_profile(name, known, origin))
        profile = loaded.get(name) or read_profile(known[name], texts)
        loaded[name] = profile
        included: set[str] = set()
        for child in profile.includes:
            included |= {child.value} | visit(child.value, (*chain, name), child.origin)
        closure[name] = frozenset(included)
        ordered.append(profile)
        return closure[name]

    for name in names:
        visit(name, (), Origin("flag", "command line"))
    return ordered, closure

