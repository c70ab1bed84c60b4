"""The pipeline's direction, checked on the source: each stage imports only earlier ones.

layers (read one input) -> fleet (merge, model, checks) -> targets (pure renders) ->
output (write); `serialize` is formats only. Lazy imports inside functions count too.
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "stackgen"
LEAVES = ("stackgen.model", "stackgen.secrets", "stackgen.resources", "stackgen.bulk", "stackgen.cache")
# what every module may import: the dataclass decorator, as it would `dataclasses`
EVERYWHERE = ("stackgen.records",)
# module prefix -> what it may import from stackgen (prefixes)
ALLOWED: dict[str, tuple[str, ...]] = {
    "stackgen.records": ("stackgen.cache",),
    "stackgen.digest": (),
    "stackgen.charclass": (),
    "stackgen.model": (),
    "stackgen.secrets": (),
    "stackgen.resources": (),
    "stackgen.bulk": (),
    "stackgen.cache": (),
    "stackgen.errors": ("stackgen.secrets",),
    "stackgen.checks": ("stackgen.errors", "stackgen.charclass", "stackgen.checks"),
    "stackgen.serialize": ("stackgen.resources", "stackgen.cache", "stackgen.secrets", "stackgen.digest",
                           "stackgen.charclass", "stackgen.serialize"),
    "stackgen.layers": ("stackgen.errors", "stackgen.checks", "stackgen.secrets", "stackgen.resources",
                        "stackgen.cache", "stackgen.digest", "stackgen.model", "stackgen.layers"),
    "stackgen.fleet": ("stackgen.errors", "stackgen.checks", "stackgen.model", "stackgen.layers",
                       "stackgen.fleet", "stackgen.bulk"),
    "stackgen.targets": ("stackgen.model", "stackgen.errors", "stackgen.checks", "stackgen.serialize",
                         "stackgen.targets"),
    "stackgen.output": ("stackgen.errors", "stackgen.secrets", "stackgen.digest", "stackgen.output"),
}
# third-party modules that only one place may import
OWNERS = {"click": ("stackgen.cli",), "jsonschema": ("stackgen.layers.schema",),
          "jinja2": ("stackgen.serialize.text",), "cryptography": ("stackgen.layers.certs",),
          # a test dependency only: stackgen.serialize.toml writes TOML as tomlkit did
          "tomlkit": (), "ruamel": ("stackgen.layers",)}


def _modules() -> dict[str, set[str]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{name}: use absolute imports (stackgen.x)"
                deps.add(node.module or "")
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        out[name] = deps
    return out


MODULES = _modules()


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_pipeline(module: str) -> None:
    rule = next((p for p in sorted(ALLOWED, key=len, reverse=True) if _under(module, p)), None)
    if rule is None:
        return  # api, cli, __init__, __main__: the entry points may use every stage
    internal = {d for d in MODULES[module]
                if _under(d, "stackgen") and d != "stackgen" and d not in EVERYWHERE}
    bad = sorted(d for d in internal if not any(_under(d, ok) for ok in ALLOWED[rule]))
    assert not bad, f"{module} may import only {ALLOWED[rule]}, not {bad}"


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_heavy_libraries_have_one_home(library: str) -> None:
    users = sorted(m for m, deps in MODULES.items() if any(_under(d, library) for d in deps))
    assert all(any(_under(u, owner) for owner in OWNERS[library]) for u in users), users


def test_no_import_cycle_between_stages() -> None:
    stages = ["stackgen.layers", "stackgen.fleet", "stackgen.targets", "stackgen.output",
              "stackgen.serialize"]
    for i, stage in enumerate(stages):
        for later in stages[i + 1:]:
            back = [m for m, deps in MODULES.items() if _under(m, stage)
                    and any(_under(d, later) for d in deps)]
            forth = [m for m, deps in MODULES.items() if _under(m, later)
                     and any(_under(d, stage) for d in deps)]
            assert not (back and forth), (stage, later, back, forth)


def test_every_module_is_small() -> None:
    big = {p.name: n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 450}
    assert not big, big
