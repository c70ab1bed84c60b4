"""Reading the non-profile layers: the site file and `--set` overrides."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from stackgen.errors import Origin, Problem, Problems, UserError
from stackgen.layers.located import Val, from_plain, load_yaml_file, load_yaml_text
from stackgen.layers.schema import validate
from stackgen.records import dataclass
from stackgen.resources import data_dir, display_path

SITE_FILE = "stackgen.yaml"


@dataclass(frozen=True)
class Site:
    """The site file read: its path, its content with positions, and whether it is the
    built-in example."""

    path: Path
    doc: Val
    builtin: bool

    @property
    def base_dir(self) -> Path:
        """Relative paths in the site file (certificates) resolve against its folder."""
        return self.path.parent


def example_site_path() -> Path:
    return data_dir("examples") / "example-site" / SITE_FILE


def find_site(path: str | Path | None) -> tuple[Path, bool]:
    """The explicit site file, else ./stackgen.yaml, else the built-in example site."""
    if path is not None:
        return Path(path), False
    local = Path.cwd() / SITE_FILE
    if local.is_file():
        return local, False
    return example_site_path(), True


def read_site(path: str | Path | None) -> Site:
    site_path, builtin = find_site(path)
    display = "example site (built-in)" if builtin else display_path(site_path)
    if builtin:
        display = f"examples/example-site/{SITE_FILE}"
    if not site_path.is_file():
        raise UserError(Problem(f"site file not found: {site_path}"))
    doc = load_yaml_file(site_path, Origin("site", display))
    if not isinstance(doc.value, dict):
        raise UserError(Problem("a site file must be a mapping of keys", doc.origin))
    problems = validate(doc, "site", display)
    if problems:
        raise UserError(problems)
    return Site(site_path, doc, builtin)


def parse_sets(assignments: Sequence[str]) -> list[Val]:
    """`--set a.b.c=value` layers; the value is read as YAML (true, 3, [x, y]) and replaces."""
    layers: list[Val] = []
    problems = Problems()
    for text in assignments:
        origin = Origin("set", f"--set {text}")
        key, sep, raw = text.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts):
            problems.add(
                "expected KEY=VALUE with a dotted key",
                origin,
                hint="for example --set manager.concurrent=8",
            )
            continue
        try:
            value = (load_yaml_text(raw, origin, document=False).with_op("reset")
                     if raw.strip() else from_plain("", origin))
        except UserError as exc:
            # the message must not repeat the value: it may be a pasted token
            hidden = Origin("set", f"--set {key}=<value not shown>")
            problems.extend(Problem(p.message, hidden, p.key, p.hint) for p in exc.problems)
            continue
        node = value
        for part in reversed(parts):
            node = Val({part: node}, origin)
        layer_problems = validate(node, "site", "--set")
        problems.extend(layer_problems)
        layers.append(node)
    problems.raise_if_any()
    return layers
