"""The library surface: `import stackgen` is cheap and every public name is what it says."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import stackgen


def test_public_names_are_not_shadowed_by_submodules() -> None:
    # import every submodule: none may replace a public function or class on the package
    for info in pkgutil.walk_packages(stackgen.__path__, "stackgen."):
        if info.name != "stackgen.__main__":
            importlib.import_module(info.name)
    for name in stackgen.__all__:
        value = getattr(stackgen, name)
        assert not isinstance(value, type(sys)), f"stackgen.{name} is a module"
    assert set(stackgen.__all__) == set(stackgen._WHERE)


def test_cli_start_up_imports_nothing_heavy() -> None:
    code = "import sys, stackgen.cli; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    heavy = {"jsonschema", "ruamel.yaml", "tomlkit", "jinja2", "cryptography", "stackgen.fleet.assemble"}
    assert not heavy & loaded


def test_list_loads_no_schema_validator() -> None:
    """`stackgen list` reads the built-in profiles' descriptions; their validation happens in
    the test suite (tests/test_profiles.py), not at every start."""
    code = ("import sys, stackgen.cli\n"
            "try:\n    stackgen.cli.main(['list'])\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stderr.split())
    assert not {"jsonschema", "cryptography", "jinja2", "tomlkit"} & loaded


def test_a_valid_build_loads_no_schema_validator(tmp_path: Path) -> None:
    """jsonschema runs (for its messages) only on a layer the compiled check refuses."""
    code = ("import sys, stackgen.cli\n"
            f"try:\n    stackgen.cli.main(['build', 'preproc', '-t', 'swarm', '-o', {str(tmp_path / 'out')!r}])\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stderr.split())
    assert "jsonschema" not in loaded
    assert "hashlib" not in loaded  # nor OpenSSL: stackgen.digest has SHA-256


def test_build_render_round_trip() -> None:
    fleet = stackgen.build(["preproc"])
    assert isinstance(fleet, stackgen.Fleet)
    assert [r.name for r in fleet.runners] == ["preproc"]
    files = stackgen.render(fleet, "swarm")
    assert files == stackgen.generate(["preproc"], "swarm")
    assert set(stackgen.list_targets()) >= {"config-toml", "swarm", "compose", "helm", "dockerfile"}


def test_library_callers_get_findings_as_warnings() -> None:
    import pytest

    with pytest.warns(stackgen.StackgenWarning, match="no runner manager in this build trusts it"):
        stackgen.build(["default"])
    assert stackgen.assemble(["default"]).findings  # the same findings, as data


def test_the_garbage_collector_is_back_as_it_was_after_a_build() -> None:
    """Builds pause the cyclic collector (stackgen/bulk.py); callers get theirs back."""
    import gc

    import pytest

    assert gc.isenabled()
    stackgen.generate(["preproc"], "swarm")
    assert gc.isenabled()
    with pytest.raises(stackgen.UserError):
        stackgen.generate(["no-such-profile"], "swarm")
    assert gc.isenabled()
    gc.disable()
    try:
        stackgen.generate(["preproc"], "swarm")
        assert not gc.isenabled()
    finally:
        gc.enable()
