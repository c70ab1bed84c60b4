"""README examples run as written: every `$ stackgen ...` line and the library example."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from stackgen.cli import main
from stackgen.layers.inputs import example_site_path
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
# `$ stackgen ...` lines, with the `stackgen: error:` lines printed right after them, if any
EXAMPLES = re.findall(r"^\$ stackgen (.+)\n((?:stackgen: error: .+\n)*)", README, flags=re.M)
COMMANDS = [command for command, _ in EXAMPLES]
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


@pytest.fixture
def site_in_cwd(tmp_path: Path) -> Path:
    """A ./stackgen.yaml like a user's, copied from the example site, and the example site
    where a fresh clone has it (the library example names it)."""
    shutil.copytree(example_site_path().parent, tmp_path, dirs_exist_ok=True)
    shutil.copytree(example_site_path().parent, tmp_path / "examples" / "example-site")
    return tmp_path


def test_readme_has_examples() -> None:
    assert len(COMMANDS) >= 4 and PYTHON_BLOCKS


@pytest.mark.parametrize("command,errors", EXAMPLES, ids=COMMANDS)
def test_readme_command_runs(command: str, errors: str, site_in_cwd: Path) -> None:
    result = CliRunner().invoke(main, shlex.split(command))
    if errors:  # an example of bad input: it fails as shown
        assert result.exit_code == 2 and result.stderr == errors
    else:
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize("code", PYTHON_BLOCKS)
def test_readme_python_runs(code: str, site_in_cwd: Path) -> None:
    exec(compile(code, "README.md", "exec"), {})


YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", README, flags=re.S)


def _block(marker: str) -> str:
    return next(b for b in YAML_BLOCKS if marker in b)


def test_readme_profile_example_builds(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "gpu.yaml").write_text(_block("# profiles/gpu.yaml"))
    result = CliRunner().invoke(
        main, ["validate", "gpu", "self-signed-certs", "--profiles-dir", str(profiles)]
    )
    assert result.exit_code == 0, result.output
    # its waivers cover every lint finding; only helm may refuse the host device
    assert [line for line in result.stderr.splitlines()
            if "not for --target" not in line and not line.startswith("stackgen: note:")] == []


def test_readme_site_example_is_a_valid_site_file() -> None:
    from stackgen.errors import Origin
    from stackgen.layers.located import load_yaml_text
    from stackgen.layers.schema import validate

    doc = load_yaml_text(_block("name: calgary"), Origin("site", "README.md"))
    assert validate(doc, "site", "README.md") == []
